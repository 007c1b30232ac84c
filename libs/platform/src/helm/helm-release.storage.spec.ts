import { gunzipSync, gzipSync } from 'node:zlib';

import type { KubeObject } from '../kubernetes/kube.types';
import {
  assertTrustedRelease,
  HelmReleaseStorage,
  ReleaseStorageError,
  RELEASE_SECRET_TYPE,
  decodeReleaseData,
  encodeReleaseData,
  releaseSecretName,
  type ReleasePayload,
} from './helm-release.storage';

function payload(version: number, status: ReleasePayload['info']['status'], manifest = `# rev ${version}`): ReleasePayload {
  return {
    name: 'web',
    namespace: 'ns1',
    version,
    info: { status, description: 'Install complete', last_deployed: '2026-11-22T01:00:00Z' },
    chart: { metadata: { name: 'webapp', version: '1.0.0', appVersion: '1.27' } },
    config: { user: { adminPassword: 'hunter2-secret' } },
    manifest,
  };
}

/** A release Secret as the API returns it. */
function secret(p: ReleasePayload, resourceVersion = '100'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RELEASE_SECRET_TYPE,
    metadata: {
      name: releaseSecretName(p.name, p.version),
      namespace: p.namespace,
      resourceVersion,
      labels: { name: p.name, owner: 'helm', status: p.info.status, version: String(p.version) },
    },
    data: { release: encodeReleaseData(p) },
  };
}

class FakeKube {
  secrets: KubeObject[] = [];
  patches: { namespace: string; name: string; patch: Record<string, unknown> }[] = [];
  selectors: string[] = [];

  async listSecrets(_namespace: string, labelSelector?: string): Promise<KubeObject[]> {
    this.selectors.push(labelSelector ?? '');
    return this.secrets;
  }

  reads: string[] = [];

  async listSecretMetadata(_namespace: string, labelSelector?: string): Promise<KubeObject[]> {
    this.selectors.push(`metadata:${labelSelector ?? ''}`);
    const wanted = /status=(\w+)/.exec(labelSelector ?? '')?.[1];
    return this.secrets.filter((s) => !wanted || s.metadata.labels?.status === wanted).map(({ data: _data, ...rest }) => rest);
  }

  async readSecret(_namespace: string, name: string): Promise<KubeObject | undefined> {
    this.reads.push(name);
    return this.secrets.find((s) => s.metadata.name === name);
  }

  async patchSecret(namespace: string, name: string, patch: Record<string, unknown>): Promise<KubeObject> {
    this.patches.push({ namespace, name, patch });
    return this.secrets[0];
  }
}

describe('helm release encoding', () => {
  it('round-trips a release through the Secret data format', () => {
    const p = payload(3, 'deployed');
    expect(decodeReleaseData(encodeReleaseData(p))).toEqual(p);
  });

  it('is base64 over Helm base64 over gzip, as helm writes it', () => {
    const helmString = Buffer.from(encodeReleaseData(payload(1, 'deployed')), 'base64').toString('latin1');
    expect(helmString).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(helmString, 'base64').subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
  });

  it('reads releases stored before helm compressed them', () => {
    const p = payload(1, 'deployed');
    const legacy = Buffer.from(Buffer.from(JSON.stringify(p)).toString('base64')).toString('base64');
    expect(decodeReleaseData(legacy)).toEqual(p);
  });

  it('keeps integers JavaScript cannot represent exactly when re-encoding', () => {
    const json = '{"name":"web","namespace":"ns1","version":1,"info":{"status":"deployed"},"config":{"id":12345678901234567890,"f":1.50}}';
    const data = Buffer.from(gzipSync(Buffer.from(json)).toString('base64')).toString('base64');

    const reencoded = encodeReleaseData(decodeReleaseData(data));

    const text = Buffer.from(Buffer.from(reencoded, 'base64').toString('latin1'), 'base64');
    expect(gunzipSync(text).toString()).toContain('"id":12345678901234567890');
  });
});

describe(HelmReleaseStorage.name, () => {
  let kube: FakeKube;
  let sut: HelmReleaseStorage;

  beforeEach(() => {
    kube = new FakeKube();
    sut = new HelmReleaseStorage(kube);
  });

  it('reads the manifest of the deployed revision, not of a newer failed one', async () => {
    kube.secrets = [secret(payload(2, 'deployed', 'kind: A')), secret(payload(1, 'superseded')), secret(payload(3, 'failed'))];

    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: A');
    expect(kube.selectors).toEqual(['metadata:owner=helm,name=web,status=deployed']);
    expect(kube.reads).toEqual(['sh.helm.release.v1.web.v2']);
  });

  it('reads and decodes a deployed revision again only when its Secret changed', async () => {
    const p = payload(2, 'deployed', 'kind: A');
    kube.secrets = [secret(p, '7')];
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: A');
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: A');
    expect(kube.reads).toHaveLength(1);
    // Same name, new resourceVersion: read again.
    kube.secrets = [secret({ ...p, manifest: 'kind: B' }, '8')];
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: B');
    expect(kube.reads).toHaveLength(2);
  });

  it('takes the newest deployed revision, and falls back to a full read when it changed under the list', async () => {
    kube.secrets = [secret(payload(3, 'deployed', 'kind: C')), secret(payload(2, 'deployed', 'kind: B'))];
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: C');
    const real = kube.readSecret.bind(kube);
    kube.readSecret = async (ns, name) => ({ ...(await real(ns, name))!, metadata: { ...(await real(ns, name))!.metadata, labels: { status: 'superseded' } } });
    kube.secrets = [secret(payload(4, 'deployed', 'kind: D'), '9')];
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: D');
  });

  it('keeps a bounded number of decoded manifests', async () => {
    const small = new HelmReleaseStorage(kube, 1);
    kube.secrets = [secret(payload(2, 'deployed', 'kind: A'), '7')];
    await small.readDeployedManifest('web', 'ns1');
    kube.secrets = [secret({ ...payload(2, 'deployed', 'kind: A'), namespace: 'ns2' }, '7')];
    await small.readDeployedManifest('web', 'ns2');
    expect((small as unknown as { manifests: Map<string, unknown> }).manifests.size).toBe(1);
  });

  it('orders revisions numerically', async () => {
    kube.secrets = [secret(payload(10, 'deployed')), secret(payload(9, 'superseded'))];
    await expect(sut.latest('web', 'ns1')).resolves.toMatchObject({ revision: 10, secretName: 'sh.helm.release.v1.web.v10' });
  });

  it('has nothing for an unknown release', async () => {
    await expect(sut.deployed('web', 'ns1')).resolves.toBeUndefined();
    await expect(sut.unlockPending('web', 'ns1')).resolves.toEqual({ unlocked: false });
  });

  it('leaves a release alone whose latest revision is not pending', async () => {
    kube.secrets = [secret(payload(1, 'deployed'))];
    await expect(sut.unlockPending('web', 'ns1')).resolves.toEqual({ unlocked: false, revision: 1, previousStatus: 'deployed' });
    expect(kube.patches).toEqual([]);
  });

  it.each(['pending-install', 'pending-upgrade', 'pending-rollback'] as const)('marks a %s revision failed in its label and payload, conditionally on resourceVersion', async (status) => {
    kube.secrets = [secret(payload(1, 'superseded')), secret(payload(2, status), '4711')];

    const result = await sut.unlockPending('web', 'ns1');

    expect(result).toEqual({ unlocked: true, revision: 2, previousStatus: status });
    expect(kube.patches).toHaveLength(1);
    const { name, patch } = kube.patches[0];
    expect(name).toBe('sh.helm.release.v1.web.v2');
    expect(patch.metadata).toMatchObject({ resourceVersion: '4711', labels: { status: 'failed', modifiedAt: expect.stringMatching(/^\d+$/) } });
    const written = decodeReleaseData((patch.data as { release: string }).release);
    expect(written.info).toMatchObject({ status: 'failed', description: `Release unlocked from stale '${status}' state` });
    // Everything else survives untouched, values included.
    expect({ ...written, info: undefined }).toEqual({ ...payload(2, status), info: undefined });
  });
});

describe(assertTrustedRelease.name, () => {
  const good = () => secret(payload(3, 'deployed'));
  const check =
    (s: KubeObject, p = payload(3, 'deployed')) =>
    () =>
      assertTrustedRelease(s, p, 'web', 'ns1');

  it('accepts a Secret as helm writes it', () => {
    expect(check(good())).not.toThrow();
  });

  it.each<[string, (s: KubeObject) => void, string]>([
    ['another owner', (s) => (s.metadata.labels!.owner = 'someone'), 'its owner label is not "helm"'],
    ['another release name label', (s) => (s.metadata.labels!.name = 'other'), 'its name label is not "web"'],
    ['another namespace', (s) => (s.metadata.namespace = 'ns2'), 'it is not in namespace "ns1"'],
    ['a version label that disagrees', (s) => (s.metadata.labels!.version = '4'), 'its version label (4) is not the revision it holds (3)'],
    ['a name that disagrees', (s) => (s.metadata.name = 'sh.helm.release.v1.web.v9'), 'its name is not sh.helm.release.v1.web.v3'],
    ['another type', (s) => (s.type = 'Opaque'), 'its type is not helm.sh/release.v1'],
  ])('refuses a Secret with %s, naming the rule', (_what, tamper, rule) => {
    const s = good();
    tamper(s);
    expect(check(s)).toThrow(ReleaseStorageError);
    expect(check(s)).toThrow(rule);
  });

  it('refuses a body that names another release, namespace or revision', () => {
    expect(check(good(), { ...payload(3, 'deployed'), name: 'other' })).toThrow('the release it holds is not named "web"');
    expect(check(good(), { ...payload(3, 'deployed'), namespace: 'ns2' })).toThrow('the release it holds is not in namespace "ns1"');
    expect(check(good(), payload(4, 'deployed'))).toThrow('its version label (3) is not the revision it holds (4)');
  });
});

describe('release storage limits', () => {
  it('refuses a gzip bomb without inflating it', () => {
    // 64 MiB of zeros gzip to about 64 KiB; the cap here is 1 MiB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const data = Buffer.from(bomb.toString('base64'), 'latin1').toString('base64');
    const before = process.memoryUsage().arrayBuffers;
    expect(() => decodeReleaseData(data, 1024 * 1024)).toThrow(ReleaseStorageError);
    expect(() => decodeReleaseData(data, 1024 * 1024)).toThrow('inflates to more than 1048576 bytes');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('never hands out a manifest from an untrusted Secret', async () => {
    const kube = new FakeKube();
    const forged = secret({ ...payload(2, 'deployed', 'kind: ClusterRole'), name: 'other' });
    forged.metadata.name = releaseSecretName('web', 2);
    forged.metadata.labels!.name = 'web';
    kube.secrets = [forged];
    const sut = new HelmReleaseStorage(kube);
    await expect(sut.readDeployedManifest('web', 'ns1')).rejects.toThrow('the release it holds is not named "web"');
    await expect(sut.latest('web', 'ns1')).rejects.toThrow(ReleaseStorageError);
  });

  it('reads one revision with its hook manifests, for a rollback check', async () => {
    const kube = new FakeKube();
    kube.secrets = [secret({ ...payload(1, 'superseded', 'kind: A'), hooks: [{ name: 'h', kind: 'ConfigMap', manifest: 'kind: ConfigMap' }] }), secret(payload(2, 'deployed'))];
    const sut = new HelmReleaseStorage(kube);
    await expect(sut.revision('web', 'ns1', 1)).resolves.toMatchObject({ revision: 1, manifest: 'kind: A', hookManifests: ['kind: ConfigMap'] });
    await expect(sut.revision('web', 'ns1', 7)).resolves.toBeUndefined();
  });

  it('uses the client given for the namespace (the tenant’s)', async () => {
    const perNamespace = new Map([['ns1', new FakeKube()]]);
    perNamespace.get('ns1')!.secrets = [secret(payload(1, 'deployed', 'kind: B'))];
    const sut = new HelmReleaseStorage((ns) => perNamespace.get(ns)!);
    await expect(sut.readDeployedManifest('web', 'ns1')).resolves.toBe('kind: B');
  });
});
