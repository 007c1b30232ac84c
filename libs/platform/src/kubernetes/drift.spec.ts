import { correctDrift, detectDrift, diffObjects, formatPath, type DriftKube, type DriftMemo } from './drift';
import type { ApplyOptions } from './kube.client';
import { refOf, type KubeObject, type ObjectRef } from './kube.types';
import { parseManifest } from './manifest';

const MANIFEST = `---
# Source: webapp/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels:
    tier: web
data:
  title: "Hello"
  enabled: yes
---
# Source: webapp/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            limits:
              cpu: 1000m
---
# Source: webapp/templates/empty.yaml
`;

const key = (r: ObjectRef) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;

/**
 * A fake API server: live objects in a map; a dry-run apply returns the live object with the
 * applied fields merged in and normalised the way the real server would ("1000m" → "1").
 */
class FakeKube implements DriftKube {
  live = new Map<string, KubeObject>();
  applied: { obj: KubeObject; options: ApplyOptions }[] = [];
  reads: ('full' | 'metadata')[] = [];

  put(obj: KubeObject): void {
    this.live.set(key(refOf(obj)), structuredClone(obj));
  }

  async isNamespaced(_apiVersion: string, kind: string): Promise<boolean> {
    return kind !== 'Namespace' && kind !== 'ClusterRole';
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    this.reads.push('full');
    return structuredClone(this.live.get(key(ref))) as T | undefined;
  }

  async getMetadata(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.reads.push('metadata');
    const obj = this.live.get(key(ref));
    return obj && { apiVersion: obj.apiVersion, kind: obj.kind, metadata: structuredClone(obj.metadata) };
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions = {}): Promise<T> {
    this.applied.push({ obj, options });
    const merged = normalise(merge(structuredClone(this.live.get(key(refOf(obj))) ?? {}), structuredClone(obj))) as KubeObject;
    const current = this.live.get(key(refOf(obj)));
    merged.metadata.resourceVersion = options.dryRun ? current?.metadata.resourceVersion : String(Number(current?.metadata.resourceVersion ?? 0) + 1);
    if (!options.dryRun) this.live.set(key(refOf(obj)), merged);
    return structuredClone(merged) as T;
  }
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(source)) {
    const t = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      merge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else if (Array.isArray(v) && Array.isArray(t)) {
      target[k] = v.map((item, i) => (item && typeof item === 'object' && t[i] ? merge(t[i] as Record<string, unknown>, item) : item));
    } else {
      target[k] = v;
    }
  }
  return target;
}

function normalise(value: unknown): unknown {
  if (value === '1000m') return '1';
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

/** What the server holds after helm installed the manifest: defaults filled in, quantities normalised. */
function installed(kube: FakeKube): void {
  for (const obj of parseManifest(MANIFEST)) {
    const live = normalise(structuredClone(obj)) as KubeObject;
    live.metadata = {
      ...live.metadata,
      namespace: 'ns1',
      uid: `uid-${obj.metadata.name}`,
      resourceVersion: '1',
      creationTimestamp: '2026-11-22T01:00:00Z',
      managedFields: [{ manager: 'helm', operation: 'Update' }],
      annotations: { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': 'ns1' },
      labels: { ...live.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' },
    };
    if (obj.kind === 'Deployment') {
      (live.spec as Record<string, unknown>).strategy = { type: 'RollingUpdate' }; // server default
      live.status = { readyReplicas: 1 };
    }
    kube.put(live);
  }
}

describe(detectDrift.name, () => {
  let kube: FakeKube;
  const options = { namespace: 'ns1', releaseName: 'web' };

  beforeEach(() => {
    kube = new FakeKube();
    installed(kube);
  });

  it('finds no drift right after install, despite defaults, normalised quantities and status', async () => {
    await expect(detectDrift(kube, MANIFEST, options)).resolves.toEqual({ drifted: false, objects: [] });
    expect(kube.applied.every((a) => a.options.dryRun && a.options.force)).toBe(true);
    expect(kube.applied.map((a) => a.obj.metadata.namespace)).toEqual(['ns1', 'ns1']);
  });

  it('reports a deleted object as missing', async () => {
    kube.live.delete('ConfigMap/ns1/web-config');

    await expect(detectDrift(kube, MANIFEST, options)).resolves.toEqual({
      drifted: true,
      objects: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns1', name: 'web-config', reason: 'missing', fields: [] }],
    });
  });

  it('reports the fields changed by scaling and by editing a label and a value', async () => {
    const deployment = kube.live.get('Deployment/ns1/web')!;
    (deployment.spec as { replicas: number }).replicas = 3;
    const config = kube.live.get('ConfigMap/ns1/web-config')!;
    config.metadata.labels!.tier = 'edited';
    (config.data as Record<string, string>).title = 'Changed by hand';
    // A label the manifest does not set is not drift.
    config.metadata.labels!.extra = 'added';

    const report = await detectDrift(kube, MANIFEST, options);

    expect(report.drifted).toBe(true);
    expect(report.objects).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', reason: 'modified', fields: ['.metadata.labels.tier', '.data.title'] }),
      expect.objectContaining({ kind: 'Deployment', reason: 'modified', fields: ['.spec.replicas'] }),
    ]);
  });

  it('reads YAML like helm does (yes is a boolean)', async () => {
    const cm = parseManifest(MANIFEST)[0];
    expect((cm.data as Record<string, unknown>).enabled).toBe(true);
  });

  it('with a memo, does not dry-run again objects whose resourceVersion has not moved, and still sees a change', async () => {
    const memo: DriftMemo = { clean: new Map<string, string>() };
    await expect(detectDrift(kube, MANIFEST, { ...options, memo })).resolves.toEqual({ drifted: false, objects: [] });
    expect(kube.applied).toHaveLength(2);
    expect(memo.objects).toHaveLength(2);

    kube.reads = [];
    await expect(detectDrift(kube, MANIFEST, { ...options, memo })).resolves.toEqual({ drifted: false, objects: [] });
    expect(kube.applied).toHaveLength(2);
    // Objects found clean before are looked at through their metadata only.
    expect(kube.reads).toEqual(['metadata', 'metadata']);

    // An edit moves the resourceVersion: that object is compared again, and found drifted.
    const deployment = kube.live.get('Deployment/ns1/web')!;
    (deployment.spec as { replicas: number }).replicas = 3;
    deployment.metadata.resourceVersion = '2';
    const report = await detectDrift(kube, MANIFEST, { ...options, memo });
    expect(report.objects).toEqual([expect.objectContaining({ kind: 'Deployment', reason: 'modified', fields: ['.spec.replicas'] })]);
    expect(kube.applied).toHaveLength(3);
    expect(kube.reads.slice(2)).toEqual(expect.arrayContaining(['metadata', 'metadata', 'full']));
    // Drifted objects are not remembered as clean: the next check compares them again.
    await detectDrift(kube, MANIFEST, { ...options, memo });
    expect(kube.applied).toHaveLength(4);

    // A deleted object is missing whatever the memo says.
    kube.live.delete('ConfigMap/ns1/web-config');
    const after = await detectDrift(kube, MANIFEST, { ...options, memo });
    expect(after.objects).toContainEqual(expect.objectContaining({ kind: 'ConfigMap', reason: 'missing' }));
  });
});

describe(correctDrift.name, () => {
  it('re-applies only the drifted objects with force, and then there is no drift', async () => {
    const kube = new FakeKube();
    installed(kube);
    const options = { namespace: 'ns1', releaseName: 'web' };
    kube.live.delete('ConfigMap/ns1/web-config');
    (kube.live.get('Deployment/ns1/web')!.spec as { replicas: number }).replicas = 0;
    const drift = await detectDrift(kube, MANIFEST, options);
    kube.applied = [];

    const result = await correctDrift(kube, MANIFEST, drift, options);

    expect(result.corrected.map((o) => `${o.kind}:${o.reason}`)).toEqual(['ConfigMap:missing', 'Deployment:modified']);
    expect(kube.applied.map((a) => [a.obj.kind, a.options])).toEqual([
      ['ConfigMap', { force: true }],
      ['Deployment', { force: true }],
    ]);
    // A re-created object carries helm's ownership metadata, so helm keeps managing it.
    expect(kube.live.get('ConfigMap/ns1/web-config')!.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'web' });
    await expect(detectDrift(kube, MANIFEST, options)).resolves.toEqual({ drifted: false, objects: [] });
  });

  it('does nothing without drift', async () => {
    const kube = new FakeKube();
    await expect(correctDrift(kube, MANIFEST, { drifted: false, objects: [] }, { namespace: 'ns1' })).resolves.toEqual({ corrected: [] });
    expect(kube.applied).toEqual([]);
  });
});

describe(diffObjects.name, () => {
  it('ignores server-owned metadata and status', () => {
    const a = { metadata: { name: 'x', resourceVersion: '1', uid: 'a', generation: 1, managedFields: [1] }, status: { x: 1 } };
    const b = { metadata: { name: 'x', resourceVersion: '2', uid: 'b', generation: 2, managedFields: [2] }, status: { x: 2 } };
    expect(diffObjects(a, b)).toEqual([]);
  });

  it('names list items by index and keys that are not identifiers in brackets', () => {
    const a = { spec: { containers: [{ name: 'web', image: 'a' }] }, metadata: { labels: { 'app.kubernetes.io/name': 'x' } } };
    const b = { spec: { containers: [{ name: 'web', image: 'b' }, { name: 'sidecar' }] }, metadata: { labels: {} } };
    expect(diffObjects(a, b)).toEqual(['.spec.containers[0].image', '.spec.containers[1]', '.metadata.labels["app.kubernetes.io/name"]']);
  });

  it('treats empty and absent as equal', () => {
    expect(diffObjects({ metadata: { annotations: {} }, spec: { x: [] } }, { metadata: {}, spec: {} })).toEqual([]);
  });

  it('bounds the number of reported fields', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i]));
    expect(diffObjects({ data: many }, { data: {} })).toHaveLength(51);
  });
});

describe(formatPath.name, () => {
  it('formats the root', () => expect(formatPath([])).toBe('.'));
});
