// The platform adapters against the real local stack (kube-apiserver with KWOK, helm, the
// OCI registry): namespace guard rails, install and upgrade of the example chart pinned by
// digest, the in-process drift check and its correction, unlocking a release left pending,
// error classification, uninstall and namespace deletion. One namespace, steps in order.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadStackEnv } from '../../scripts/stack';
import {
  ConfinementChecker,
  ConfinementError,
  DiscoveryCache,
  ensureTenantClusterRole,
  HelmError,
  HelmReleaseStorage,
  releaseSecretName,
  ReleaseStorageError,
  TenantClients,
  tenantUser,
  HelmRunner,
  KubeClient,
  correctDrift,
  decodeReleaseData,
  deleteNamespace,
  detectDrift,
  encodeReleaseData,
  ensureNamespace,
  MetadataCache,
  parseManifest,
  type DriftMemo,
  type KubeObject,
} from '../../libs/platform/src';

// Project-level testTimeout is not applied by jest 30; helm --wait steps take up to minutes.
jest.setTimeout(300_000);

const env = { ...loadStackEnv(), ...pick(process.env) };
const suffix = randomBytes(3).toString('hex');
const ns = `platform-it-${suffix}`;
const release = ns;
const chartsRoot = path.resolve(__dirname, '..', '..', 'charts', 'examples');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-platform-it-'));
const helmHome = {
  HELM_CACHE_HOME: env.HELM_CACHE_HOME,
  HELM_CONFIG_HOME: env.HELM_CONFIG_HOME,
  HELM_DATA_HOME: env.HELM_DATA_HOME,
};

function pick(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Plain helm for test setup only (packaging and pushing charts); the subject is HelmRunner. */
function helmCli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(env.HELM_BIN, args, { env: { ...process.env, ...helmHome }, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`helm ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(`${stdout}${stderr}`),
    );
  });
}

async function pushChart(dir: string): Promise<{ ref: string; version: string; digest: string }> {
  const packaged = await helmCli('package', dir, '-d', tmp);
  const tgz = packaged.match(/saved it to: (\S+)/)?.[1];
  const repo = `oci://${env.CAELUS_OCI_REGISTRY}/platform-it-${suffix}`;
  const pushed = await helmCli('push', tgz!, repo, '--plain-http');
  const digest = pushed.match(/Digest:\s*(sha256:[0-9a-f]{64})/)![1];
  const version = pushed.match(/Pushed: \S+:(\S+)/)![1];
  return { ref: `${repo}/webapp`, version, digest };
}

const values = {
  replicas: 1,
  user: { title: 'Platform integration test', adminPassword: 'correct-horse-battery' },
  caelus: { deploymentUid: ns, domainName: `${ns}.apps.example.test` },
};

describe('platform adapters on the local stack', () => {
  let kube: KubeClient;
  let helm: HelmRunner;
  let storage: HelmReleaseStorage;
  let chart100: { ref: string; version: string; digest: string };
  let chart110: { ref: string; version: string; digest: string };
  let pvcUid: string | undefined;
  const progress: string[] = [];

  const get = (kind: string, name: string, apiVersion = 'v1') => kube.get({ apiVersion, kind, name, namespace: ns });
  const manifest = async () => (await helm.readDeployedManifest(release, ns))!;

  beforeAll(async () => {
    kube = new KubeClient({ kubeconfig: env.KUBECONFIG });
    helm = new HelmRunner({ helmBin: env.HELM_BIN, kubeconfig: env.KUBECONFIG, kube, allowedChartRoots: [chartsRoot], env: helmHome });
    storage = new HelmReleaseStorage(kube);
    chart100 = await pushChart(path.join(chartsRoot, 'webapp-1.0.0'));
    chart110 = await pushChart(path.join(chartsRoot, 'webapp-1.1.0'));
  });

  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Leaves nothing behind when a step failed before the deletion test.
    if (kube && (await kube.namespaceExists(ns).catch(() => false))) await kube.deleteNamespace(ns).catch(() => undefined);
  });

  it('pings the API server', async () => {
    await expect(kube.ping()).resolves.toEqual({ gitVersion: expect.stringMatching(/^v1\./) });
  });

  it('ensures the namespace with its guard rails, idempotently', async () => {
    const spec = { name: ns, deploymentUid: ns, capabilities: { quota: { pods: '10' } } };
    await expect(ensureNamespace(kube, spec)).resolves.toMatchObject({ created: true });
    await expect(ensureNamespace(kube, spec)).resolves.toMatchObject({ created: false });

    const namespace = await kube.getNamespace(ns);
    expect(namespace?.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'caelus',
      'caelus.dev/deployment-uid': ns,
      'pod-security.kubernetes.io/enforce': 'baseline',
    });
    const quota = await get('ResourceQuota', 'caelus-quota');
    expect((quota?.spec as { hard: Record<string, string> }).hard.pods).toBe('10');
    expect(await get('LimitRange', 'caelus-limits')).toBeDefined();
    const policies = await kube.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: ns });
    expect(policies.map((p) => p.metadata.name).sort()).toEqual([
      'caelus-allow-egress',
      'caelus-allow-ingress-controller',
      'caelus-allow-same-namespace',
      'caelus-default-deny-egress',
      'caelus-default-deny-ingress',
    ]);
  });

  it('renders a preview with helm template', async () => {
    const rendered = await helm.template({ release, namespace: ns, chart: { ref: path.join(chartsRoot, 'webapp-1.1.0'), version: '1.1.0' }, values });
    expect(rendered).toContain('kind: Deployment');
    expect(rendered).toContain('motd: "Welcome!"');
  });

  it('installs webapp 1.0.0 from the registry, pinned by digest, and waits for it', async () => {
    const installed = await helm.upgradeInstall({
      release,
      namespace: ns,
      chart: chart100,
      values,
      timeoutSeconds: 180,
      onProgress: (line) => progress.push(line),
    });

    expect(installed).toMatchObject({ name: release, namespace: ns, revision: 1, status: 'deployed', chartName: 'webapp', chartVersion: '1.0.0' });
    expect(progress).toEqual(expect.arrayContaining([expect.stringMatching(/^beginning wait for \d+ resources/)]));
    expect(progress.join('\n')).not.toContain('correct-horse-battery');
    const pvc = await get('PersistentVolumeClaim', `${release}-data`);
    expect((pvc?.status as { phase: string }).phase).toBe('Bound');
    pvcUid = pvc?.metadata.uid;
    expect(pvcUid).toBeTruthy();
  });

  it('upgrades to webapp 1.1.0 and keeps the PVC object', async () => {
    const upgraded = await helm.upgradeInstall({ release, namespace: ns, chart: chart110, values, timeoutSeconds: 180 });

    expect(upgraded).toMatchObject({ revision: 2, status: 'deployed', chartVersion: '1.1.0' });
    const config = await get('ConfigMap', `${release}-config`);
    expect(config?.data).toMatchObject({ motd: 'Welcome!', title: 'Platform integration test' });
    expect(config?.metadata.labels?.['app.kubernetes.io/component']).toBe('web');
    expect((await get('PersistentVolumeClaim', `${release}-data`))?.metadata.uid).toBe(pvcUid);
    const history = await helm.history(release, ns);
    expect(history.map((h) => [h.revision, h.status, h.chart])).toEqual([
      [1, 'superseded', 'webapp-1.0.0'],
      [2, 'deployed', 'webapp-1.1.0'],
    ]);
  });

  it('reads the deployed manifest from the release Secret exactly as helm get manifest does', async () => {
    const fromHelm = await helm.getManifest(release, ns);
    expect((await manifest()).trim()).toBe(fromHelm?.trim());
  });

  it('reads metadata only: names, labels and resourceVersions without contents', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: release, namespace: ns };
    const meta = await kube.getMetadata(ref);
    expect(meta).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: release, namespace: ns, resourceVersion: expect.any(String) } });
    expect(meta).not.toHaveProperty('spec');
    expect(meta?.metadata.resourceVersion).toBe((await kube.get(ref))?.metadata.resourceVersion);
    await expect(kube.getMetadata({ ...ref, name: 'not-there' })).resolves.toBeUndefined();

    const secrets = await kube.listSecretMetadata(ns, `owner=helm,name=${release}`);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const s of secrets) {
      expect(s).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { labels: { owner: 'helm', name: release } } });
      expect(s).not.toHaveProperty('data');
    }
  });

  it('keeps a watch-fed metadata cache of the release objects and Secrets in step with the cluster', async () => {
    const cache = new MetadataCache(kube, { watchTimeoutSeconds: 30 });
    try {
      const objects = parseManifest(await manifest()).map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: ns }));
      expect(objects.length).toBeGreaterThanOrEqual(4);
      // The first lookups start the watches; until they are synced, the cache cannot tell.
      for (const ref of objects) cache.resourceVersionOf(ref);
      expect(cache.releaseSecrets(ns, release)).toBeUndefined();
      await expect(cache.whenSynced(30_000)).resolves.toBe(true);

      // helm labels everything it installs (app.kubernetes.io/managed-by=Helm): every object is covered.
      for (const ref of objects) {
        expect({ ref, resourceVersion: cache.resourceVersionOf(ref) }).toEqual({ ref, resourceVersion: (await kube.getMetadata(ref))?.metadata.resourceVersion });
      }
      const listed = await kube.listSecretMetadata(ns, `owner=helm,name=${release}`);
      const fromCache = cache.releaseSecrets(ns, release)!;
      expect(fromCache.map((s) => `${s.metadata.name}@${s.metadata.resourceVersion}`).sort()).toEqual(listed.map((s) => `${s.metadata.name}@${s.metadata.resourceVersion}`).sort());
      await expect(storage.deployedManifestOf(fromCache, release, ns)).resolves.toBe(await manifest());

      // Changes arrive through the watch.
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      const patched = await kube.mergePatch(deployment, { metadata: { annotations: { 'caelus.dev/cache-probe': suffix } } });
      // The controllers may write the object again after the patch: compare with what the server has now.
      await until(async () => {
        const live = (await kube.getMetadata(deployment))?.metadata.resourceVersion;
        return live !== undefined && Number(live) >= Number(patched.metadata.resourceVersion) && cache.resourceVersionOf(deployment) === live;
      });
      const probe = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cache-probe', namespace: ns };
      const created = await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: probe.name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'Helm' } }, data: { a: 'b' } });
      await until(() => cache.resourceVersionOf(probe) === created.metadata.resourceVersion);
      await kube.delete(probe);
      await until(() => cache.resourceVersionOf(probe) === undefined);
      expect(cache.stats().every((w) => w.synced)).toBe(true);
    } finally {
      cache.close();
    }
  });

  describe('drift', () => {
    const opts = { namespace: ns, releaseName: release };

    it('with a memo, checks unchanged objects by metadata and still sees an edit', async () => {
      const memo: DriftMemo = { clean: new Map() };
      await expect(detectDrift(kube, await manifest(), { ...opts, memo })).resolves.toEqual({ drifted: false, objects: [] });
      expect(memo.clean.size).toBeGreaterThanOrEqual(4);
      await expect(detectDrift(kube, await manifest(), { ...opts, memo })).resolves.toEqual({ drifted: false, objects: [] });
      const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: release, namespace: ns };
      await kube.mergePatch(ref, { spec: { replicas: 2 } });
      const drift = await detectDrift(kube, await manifest(), { ...opts, memo });
      expect(drift.objects).toEqual([expect.objectContaining({ kind: 'Deployment', reason: 'modified', fields: ['.spec.replicas'] })]);
      await correctDrift(kube, await manifest(), drift, opts);
      await expect(detectDrift(kube, await manifest(), { ...opts, memo })).resolves.toEqual({ drifted: false, objects: [] });
    });

    it('finds none right after the upgrade', async () => {
      await expect(detectDrift(kube, await manifest(), opts)).resolves.toEqual({ drifted: false, objects: [] });
    });

    it('detects a deleted ConfigMap, a scaled Deployment and an edited label, then corrects them', async () => {
      await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${release}-config`, namespace: ns });
      await kube.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', name: release, namespace: ns }, { spec: { replicas: 3 } });
      await kube.mergePatch({ apiVersion: 'v1', kind: 'Service', name: release, namespace: ns }, { metadata: { labels: { 'app.kubernetes.io/component': 'edited', 'added-by-hand': 'yes' } } });

      const drift = await detectDrift(kube, await manifest(), opts);

      expect(drift.drifted).toBe(true);
      const byKind = Object.fromEntries(drift.objects.map((o) => [o.kind, o]));
      expect(byKind.ConfigMap).toMatchObject({ name: `${release}-config`, namespace: ns, reason: 'missing', fields: [] });
      expect(byKind.Deployment).toMatchObject({ reason: 'modified', fields: ['.spec.replicas'] });
      expect(byKind.Service).toMatchObject({ reason: 'modified', fields: ['.metadata.labels["app.kubernetes.io/component"]'] });
      expect(drift.objects).toHaveLength(3);

      const corrected = await correctDrift(kube, await manifest(), drift, opts);

      expect(corrected.corrected).toHaveLength(3);
      expect((await get('Deployment', release, 'apps/v1'))?.spec).toMatchObject({ replicas: 1 });
      expect((await get('ConfigMap', `${release}-config`))?.data).toMatchObject({ motd: 'Welcome!' });
      await expect(detectDrift(kube, await manifest(), opts)).resolves.toEqual({ drifted: false, objects: [] });
    });

    it('leaves the release upgradable by helm after a correction', async () => {
      const again = await helm.upgradeInstall({ release, namespace: ns, chart: chart110, values, timeoutSeconds: 180 });
      expect(again).toMatchObject({ revision: 3, status: 'deployed' });
      await expect(detectDrift(kube, await manifest(), opts)).resolves.toEqual({ drifted: false, objects: [] });
    });
  });

  describe('a release left pending by a killed worker', () => {
    it('blocks helm, is unlocked, and then upgrades', async () => {
      // What a helm process killed mid-upgrade leaves behind: the newest revision pending-upgrade.
      const latest = await storage.latest(release, ns);
      const secret = (await kube.readSecret(ns, latest!.secretName)) as KubeObject;
      const payload = decodeReleaseData((secret.data as { release: string }).release);
      payload.info.status = 'pending-upgrade';
      await kube.patchSecret(ns, latest!.secretName, {
        metadata: { labels: { status: 'pending-upgrade' } },
        data: { release: encodeReleaseData(payload) },
      });

      const blocked = await helm.upgradeInstall({ release, namespace: ns, chart: chart110, values, timeoutSeconds: 60 }).catch((e: unknown) => e);
      expect(blocked).toBeInstanceOf(HelmError);
      expect(blocked).toMatchObject({ kind: 'pending', retryable: true });

      await expect(helm.unlockPending(release, ns)).resolves.toEqual({
        unlocked: true,
        revision: latest!.revision,
        previousStatus: 'pending-upgrade',
      });
      await expect(helm.unlockPending(release, ns)).resolves.toMatchObject({ unlocked: false });
      expect((await helm.status(release, ns))?.status).toBe('failed');

      const after = await helm.upgradeInstall({ release, namespace: ns, chart: chart110, values, timeoutSeconds: 180 });
      expect(after).toMatchObject({ revision: latest!.revision + 1, status: 'deployed' });
    });
  });

  describe('failures', () => {
    it('rejects invalid values as invalid-values, not retryable, without echoing them', async () => {
      const bad = { ...values, replicas: 9, user: { ...values.user, adminPassword: 'short', colour: 'mauve-not-allowed' } };
      const revisionsBefore = (await helm.history(release, ns)).length;

      const error = await helm.upgradeInstall({ release, namespace: ns, chart: chart110, values: bad, timeoutSeconds: 60 }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(HelmError);
      expect(error).toMatchObject({ kind: 'invalid-values', retryable: false });
      const message = (error as HelmError).message;
      expect(message).toMatch(/values don't meet the specifications of the schema/);
      expect(message).not.toContain('mauve-not-allowed');
      expect(message.length).toBeLessThanOrEqual(500);
      expect(await helm.history(release, ns)).toHaveLength(revisionsBefore);
    });

    it('reports a chart version that is not in the registry as chart-not-found', async () => {
      const error = await helm.upgradeInstall({ release, namespace: ns, chart: { ref: chart110.ref, version: '9.9.9' }, values, timeoutSeconds: 60 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'chart-not-found', retryable: false });
    });
  });

  it('rolls back to the 1.0.0 revision, keeping the PVC, with no drift afterwards', async () => {
    const rolledBack = await helm.rollback(release, ns, 1, { timeoutSeconds: 180 });

    expect(rolledBack).toMatchObject({ status: 'deployed', chartName: 'webapp', chartVersion: '1.0.0' });
    expect((await helm.history(release, ns)).pop()).toMatchObject({ status: 'deployed', description: 'Rollback to 1' });
    const config = await get('ConfigMap', `${release}-config`);
    expect(config?.data).not.toHaveProperty('motd');
    expect((await get('PersistentVolumeClaim', `${release}-data`))?.metadata.uid).toBe(pvcUid);
    await expect(detectDrift(kube, await manifest(), { namespace: ns, releaseName: release })).resolves.toEqual({
      drifted: false,
      objects: [],
    });
  });

  describe('removal', () => {
    it('uninstalls, keeping the PVC, and a second uninstall is a no-op', async () => {
      await expect(helm.uninstall(release, ns, { wait: true, timeoutSeconds: 120 })).resolves.toEqual({
        uninstalled: true,
        kept: [`[PersistentVolumeClaim] ${release}-data`],
      });
      expect((await get('PersistentVolumeClaim', `${release}-data`))?.metadata.uid).toBe(pvcUid);
      await expect(helm.uninstall(release, ns, { wait: true, timeoutSeconds: 120 })).resolves.toEqual({ uninstalled: false, kept: [] });
      await expect(helm.status(release, ns)).resolves.toBeUndefined();
    });

    it('deletes the namespace and waits until it is gone', async () => {
      const steps: string[] = [];
      const result = await deleteNamespace(kube, ns, { deploymentUid: ns, timeoutSeconds: 180, onProgress: (m) => steps.push(m) });

      expect(result.deleted).toBe(true);
      await expect(kube.namespaceExists(ns)).resolves.toBe(false);
      await expect(deleteNamespace(kube, ns, { deploymentUid: ns, timeoutSeconds: 10 })).resolves.toEqual({ deleted: false, waitedMs: 0 });
    });
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Tenant confinement with the adapters as the worker wires them: helm acts as the namespace's
 * tenant ServiceAccount (--kube-as-user) through the post-renderer check, release Secrets are
 * read as the tenant and validated.
 */
describe('tenant confinement on the local stack', () => {
  const tns = `platform-tenant-${suffix}`;
  const victim = `platform-victim-${suffix}`;
  const escape = { ref: path.join(chartsRoot, 'webapp-escape-1.0.0'), version: '1.0.0' };
  const escapeValues = (user: Record<string, unknown>) => ({ user: { title: 'Tenant', ...user }, caelus: { deploymentUid: tns, domainName: '' } });
  let kube: KubeClient;
  let tenants: TenantClients;
  let helm: HelmRunner;

  beforeAll(async () => {
    kube = new KubeClient({ kubeconfig: env.KUBECONFIG });
    tenants = new TenantClients(kube);
    helm = new HelmRunner({
      helmBin: env.HELM_BIN,
      kubeconfig: env.KUBECONFIG,
      kube,
      storageKube: (n) => tenants.for(n),
      confinement: new ConfinementChecker(new DiscoveryCache(kube)),
      actAs: tenantUser,
      allowedChartRoots: [chartsRoot],
      env: helmHome,
    });
    await ensureTenantClusterRole(kube);
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: victim } });
  });

  afterAll(async () => {
    await kube.deleteNamespace(tns).catch(() => undefined);
    await kube.deleteNamespace(victim).catch(() => undefined);
  });

  it('gives the namespace its tenant ServiceAccount and a RoleBinding to the tenant ClusterRole', async () => {
    await ensureNamespace(kube, { name: tns, deploymentUid: tns });
    expect(await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', name: 'caelus-tenant', namespace: tns })).toBeDefined();
    const rb = await kube.get<KubeObject & { roleRef: unknown; subjects: unknown }>({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: 'caelus-tenant', namespace: tns });
    expect(rb?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'caelus-tenant' });
    expect(rb?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'caelus-tenant', namespace: tns }]);
    // The tenant may act in its namespace, and nowhere else.
    const tenant = tenants.for(tns);
    await expect(tenant.list('v1', 'ConfigMap', { namespace: tns })).resolves.toBeDefined();
    await expect(tenant.list('v1', 'ConfigMap', { namespace: victim })).rejects.toMatchObject({ status: 403 });
  });

  it('installs as the tenant through the confinement check', async () => {
    const rel = await helm.upgradeInstall({ release: tns, namespace: tns, chart: escape, values: escapeValues({}), timeoutSeconds: 60 });
    expect(rel).toMatchObject({ revision: 1, status: 'deployed' });
    await expect(helm.status(tns, tns)).resolves.toMatchObject({ revision: 1 });
  });

  it('runs helm impersonated: a Role the tenant ClusterRole does not grant is forbidden for the tenant ServiceAccount', async () => {
    const err = await helm.upgradeInstall({ release: tns, namespace: tns, chart: escape, values: escapeValues({ namespacedRole: true }), timeoutSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelmError);
    expect(err).toMatchObject({ kind: 'forbidden' });
    expect((err as Error).message).toContain(`system:serviceaccount:${tns}:caelus-tenant`);
    await expect(helm.rollback(tns, tns, 1, { timeoutSeconds: 60 })).resolves.toMatchObject({ status: 'deployed' });
  });

  it.each([
    ['a ConfigMap in another namespace', { configNamespace: victim }, `ConfigMap "${'%s'}-config" in namespace "${victim}"`],
    ['a ClusterRole', { clusterAccess: true }, 'cluster-scoped'],
    ['a hook in another namespace', { hookNamespace: victim }, `in namespace "${victim}"`],
  ])('refuses %s before helm applies anything', async (_what, user, expected) => {
    const before = (await kube.listSecrets(tns, `owner=helm,name=${tns}`)).length;
    const err = await helm.upgradeInstall({ release: tns, namespace: tns, chart: escape, values: escapeValues(user), timeoutSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as Error).message).toContain(expected.replace('%s', tns));
    // No new revision recorded, nothing in the other namespace, no ClusterRole.
    expect(await kube.listSecrets(tns, `owner=helm,name=${tns}`)).toHaveLength(before);
    expect((await kube.list('v1', 'ConfigMap', { namespace: victim })).filter((c) => c.metadata.name !== 'kube-root-ca.crt')).toEqual([]);
    expect(await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: `${tns}-escape` })).toBeUndefined();
  });

  it('refuses a forged release Secret before trusting it, and refuses to uninstall a stored release that escapes', async () => {
    const storage = new HelmReleaseStorage((n) => tenants.for(n));
    const latest = (await storage.latest(tns, tns))!;
    const secret = (await kube.readSecret(tns, latest.secretName))!;
    const payload = decodeReleaseData((secret.data as Record<string, string>).release);
    // A revision whose manifest reaches into another namespace, as a tampered storage could hold.
    const forgedRevision = latest.revision + 1;
    payload.version = forgedRevision;
    payload.manifest = `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n  namespace: ${victim}\n`;
    const forged = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'helm.sh/release.v1',
      metadata: { name: releaseSecretName(tns, forgedRevision), namespace: tns, labels: { owner: 'helm', name: tns, status: 'deployed', version: String(forgedRevision) } },
      data: { release: encodeReleaseData(payload) },
    };
    await kube.apply(forged);
    await expect(helm.uninstall(tns, tns, { wait: true, timeoutSeconds: 60 })).rejects.toBeInstanceOf(ConfinementError);
    // A Secret whose labels disagree with its body is not trusted at all.
    await kube.mergePatch({ apiVersion: 'v1', kind: 'Secret', name: forged.metadata.name, namespace: tns }, { metadata: { labels: { name: 'someone-else' } } });
    await kube.mergePatch({ apiVersion: 'v1', kind: 'Secret', name: forged.metadata.name, namespace: tns }, { metadata: { labels: { name: tns, version: '99' } } });
    await expect(storage.latest(tns, tns)).rejects.toBeInstanceOf(ReleaseStorageError);
    await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: forged.metadata.name, namespace: tns });
    await expect(helm.uninstall(tns, tns, { wait: true, timeoutSeconds: 60 })).resolves.toMatchObject({ uninstalled: true });
    expect((await kube.list('v1', 'ConfigMap', { namespace: victim })).filter((c) => c.metadata.name !== 'kube-root-ca.crt')).toEqual([]);
  });
});
