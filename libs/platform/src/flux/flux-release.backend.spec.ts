import { HelmError } from '../helm/helm.errors';
import { KubeError } from '../kubernetes/kube.errors';
import type { KubeObject, ObjectRef } from '../kubernetes/kube.types';
import { FluxReleaseBackend, FluxReleaseBackendDeps } from './flux-release.backend';
import { FORCE_REQUESTED_AT, RECONCILE_REQUESTED_AT, VALUES_SECRET_NAME } from './flux.objects';

const DIGEST = `sha256:${'cd'.repeat(32)}`;
const key = (r: ObjectRef) => `${r.kind}/${r.namespace}/${r.name}`;

/** The API server and helm-controller, as far as the backend sees them: `controller` runs on every read of the HelmRelease. */
class FakeCluster {
  readonly objects = new Map<string, KubeObject>();
  readonly applied: KubeObject[] = [];
  controller: (hr: KubeObject) => void = () => undefined;
  /** Reads of the HelmRelease before a deleted one is gone (its finalizer). */
  finalizerReads = 0;
  private deleting = new Map<string, number>();

  get = jest.fn(async <T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> => {
    const k = key(ref);
    const left = this.deleting.get(k);
    if (left !== undefined) {
      if (left <= 0) {
        this.objects.delete(k);
        this.deleting.delete(k);
      } else this.deleting.set(k, left - 1);
    }
    const obj = this.objects.get(k);
    // helm-controller acts on a request once.
    const handled = (obj?.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt;
    if (obj && ref.kind === 'HelmRelease' && !this.deleting.has(k) && handled !== obj.metadata.annotations?.[RECONCILE_REQUESTED_AT]) this.controller(obj);
    return obj && (structuredClone(obj) as T);
  });

  apply = jest.fn(async <T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> => {
    this.applied.push(structuredClone(obj));
    const k = key({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace });
    const existing = this.objects.get(k);
    const generation = ((existing?.metadata.generation as number | undefined) ?? 0) + (JSON.stringify(existing?.spec) === JSON.stringify(obj.spec) ? 0 : 1);
    this.objects.set(k, { ...structuredClone(obj), metadata: { ...obj.metadata, generation }, status: existing?.status });
    return obj as T;
  });

  mergePatch = jest.fn(async (ref: ObjectRef, patch: Record<string, unknown>) => {
    const obj = this.objects.get(key(ref));
    if (!obj) throw new KubeError(`patch ${ref.kind} ${ref.namespace}/${ref.name}: not found`, 404, 'NotFound', false);
    obj.spec = { ...(obj.spec as object), ...(patch.spec as object) };
    return structuredClone(obj);
  });

  delete = jest.fn(async (ref: ObjectRef) => {
    const k = key(ref);
    if (!this.objects.has(k)) return false;
    if (ref.kind === 'HelmRelease') this.deleting.set(k, this.finalizerReads);
    else this.objects.delete(k);
    return true;
  });
}

/** helm-controller handling each request: ready with revision n, or failed with a message. */
function handles(result: { ready: true; revision: number } | { ready: false; reason: string; message: string; history?: unknown[]; remediated?: boolean }) {
  return (hr: KubeObject) => {
    const token = hr.metadata.annotations?.[RECONCILE_REQUESTED_AT];
    const observedGeneration = hr.metadata.generation;
    const conditions = result.ready
      ? [{ type: 'Ready', status: 'True', reason: 'UpgradeSucceeded', message: 'ok', observedGeneration }]
      : [
          { type: 'Ready', status: 'False', reason: result.reason, message: result.message, observedGeneration },
          ...(result.remediated ? [{ type: 'Remediated', status: 'True', reason: 'RollbackSucceeded', message: '', observedGeneration }] : []),
        ];
    hr.status = { lastHandledReconcileAt: token, conditions, history: result.ready ? [{ version: result.revision, status: 'deployed' }] : (result.history ?? []) };
  };
}

describe(FluxReleaseBackend.name, () => {
  let cluster: FakeCluster;
  let sut: FluxReleaseBackend;
  const storage = { readDeployedManifest: jest.fn(async () => 'kind: ConfigMap'), deployedManifestOf: jest.fn(async () => 'cached') };
  const render = jest.fn(async () => 'rendered');
  const request = (over: Record<string, unknown> = {}) => ({
    release: 'web-1',
    namespace: 'web-1',
    chart: { ref: 'oci://127.0.0.1:5001/c/webapp', version: '1.0.0', digest: DIGEST },
    values: { user: { title: 'hello', adminPassword: 'hunter2-hunter2' } },
    secretPaths: [['user', 'adminPassword']],
    timeoutSeconds: 30,
    ...over,
  });

  beforeEach(() => {
    cluster = new FakeCluster();
    // jest.fn drops the generic signatures of get/apply; the fake returns what the client would.
    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], storage, render, intervalSeconds: 60, pollIntervalMs: 1 });
  });

  it('projects the Secret, the OCIRepository and the HelmRelease, and returns once this apply is ready', async () => {
    cluster.controller = handles({ ready: true, revision: 1 });
    const progress: string[] = [];
    await expect(sut.apply({ ...request(), onProgress: (l) => progress.push(l) })).resolves.toEqual({ revision: 1, unlocked: false });
    expect(cluster.applied.map((o) => o.kind)).toEqual(['Secret', 'OCIRepository', 'HelmRelease']);
    const hr = cluster.applied[2];
    expect(hr.spec).toMatchObject({ values: { user: { title: 'hello' } }, serviceAccountName: 'caelus-tenant' });
    expect(JSON.stringify(hr)).not.toContain('hunter2');
    expect(JSON.stringify(cluster.applied[1])).not.toContain('hunter2');
    expect(cluster.applied[0].metadata.name).toBe(VALUES_SECRET_NAME);
    expect(progress[0]).toMatch(/HelmRelease web-1\/web-1 applied/);
    expect(progress.join('\n')).not.toContain('hunter2');
  });

  it('writes the values Secret with the client it is given for the namespace (the tenant’s)', async () => {
    const tenant = { apply: jest.fn(async (o: KubeObject) => o), delete: jest.fn(async () => true) };
    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], tenantIn: () => tenant as never, storage, render, intervalSeconds: 60, pollIntervalMs: 1 });
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    expect(tenant.apply).toHaveBeenCalledWith(expect.objectContaining({ kind: 'Secret', metadata: expect.objectContaining({ name: VALUES_SECRET_NAME }) }));
    expect(cluster.applied.map((o) => o.kind)).toEqual(['OCIRepository', 'HelmRelease']);
    await sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 30 });
    expect(tenant.delete).toHaveBeenCalledWith(expect.objectContaining({ kind: 'Secret', name: VALUES_SECRET_NAME, namespace: 'web-1' }));
  });

  it('does not take an earlier success for this apply', async () => {
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    // helm-controller has not handled the second request for a few reads yet.
    let reads = 0;
    cluster.controller = (hr) => {
      if (++reads > 3) handles({ ready: true, revision: 2 })(hr);
    };
    await expect(sut.apply(request({ values: { user: { title: 'changed' } } }))).resolves.toEqual({ revision: 2, unlocked: false });
    expect(reads).toBeGreaterThan(3);
  });

  it('throws the helm backend’s error kinds, scrubbed, and forces the next attempt after a failure', async () => {
    cluster.controller = handles({ ready: false, reason: 'InstallFailed', message: 'Helm install failed: context deadline exceeded (last value hunter2-hunter2)' });
    const err = (await sut.apply(request()).catch((e: unknown) => e)) as HelmError;
    expect(err).toBeInstanceOf(HelmError);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect(err.message).not.toContain('hunter2');
    cluster.controller = handles({ ready: true, revision: 2 });
    await sut.apply(request());
    expect(cluster.applied.at(-1)!.metadata.annotations).toMatchObject({ [FORCE_REQUESTED_AT]: expect.any(String) });
  });

  it('reports the rollback helm-controller made after a failed upgrade', async () => {
    cluster.controller = handles({
      ready: false,
      reason: 'RollbackSucceeded',
      message: 'Helm upgrade failed: timed out waiting for the condition',
      remediated: true,
      history: [
        { version: 3, status: 'deployed' },
        { version: 2, status: 'failed' },
      ],
    });
    const rolledBack = jest.fn(async () => undefined);
    await expect(sut.apply({ ...request(), report: { rolledBack } })).rejects.toMatchObject({ kind: 'timeout' });
    expect(rolledBack).toHaveBeenCalledWith({ failedRevision: 2, revision: 3 });
  });

  it('times out, retryably, when helm-controller never answers', async () => {
    await expect(sut.apply(request({ timeoutSeconds: 0 }))).rejects.toMatchObject({ kind: 'timeout', retryable: true, message: expect.stringMatching(/not ready after 0s/) });
  });

  it('refuses a chart it cannot pin before writing anything, and says when Flux is not installed', async () => {
    await expect(sut.apply(request({ chart: { ref: '/charts/webapp' } }))).rejects.toMatchObject({ kind: 'chart-not-found', retryable: false });
    expect(cluster.applied).toEqual([]);
    // The values Secret goes through; the OCIRepository's kind is not served.
    cluster.apply.mockImplementationOnce(async (o: KubeObject) => o);
    cluster.apply.mockRejectedValueOnce(new KubeError('apply OCIRepository web-1/web-1: the server could not find the requested resource', 404, 'UnknownKind', false));
    await expect(sut.apply(request())).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/needs Flux's CRDs/) });
  });

  it('uninstalls by deleting the HelmRelease, waits for its finalizer, then removes the source and the values', async () => {
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    cluster.finalizerReads = 3;
    await expect(sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 30 })).resolves.toEqual({ uninstalled: true, kept: [] });
    expect(cluster.get.mock.calls.filter(([r]) => r.kind === 'HelmRelease').length).toBeGreaterThanOrEqual(4);
    expect([...cluster.objects.keys()]).toEqual([]);
    await expect(sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 30 })).resolves.toEqual({ uninstalled: false, kept: [] });
  });

  it('holds a release by suspending its HelmRelease until the next apply lifts it; nothing to hold before the first apply', async () => {
    await expect(sut.hold({ release: 'web-1', namespace: 'web-1' })).resolves.toBe(false);
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    await expect(sut.hold({ release: 'web-1', namespace: 'web-1' })).resolves.toBe(true);
    expect(cluster.mergePatch).toHaveBeenCalledWith(expect.objectContaining({ kind: 'HelmRelease', name: 'web-1', namespace: 'web-1' }), { spec: { suspend: true } });
    expect(cluster.objects.get('HelmRelease/web-1/web-1')?.spec).toMatchObject({ suspend: true, serviceAccountName: 'caelus-tenant' });
    await sut.apply(request());
    expect(cluster.objects.get('HelmRelease/web-1/web-1')?.spec).toMatchObject({ suspend: false });
    cluster.mergePatch.mockRejectedValueOnce(new KubeError('patch HelmRelease web-1/web-1: forbidden', 403, 'Forbidden', false));
    await expect(sut.hold({ release: 'web-1', namespace: 'web-1' })).rejects.toMatchObject({ status: 403 });
  });

  it('times out an uninstall helm-controller does not finish', async () => {
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    cluster.finalizerReads = 1_000_000;
    await expect(sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 0 })).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/is helm-controller running/) });
  });

  it('reads the deployed manifest from helm storage and renders with helm', async () => {
    await expect(sut.readDeployedManifest({ release: 'web-1', namespace: 'web-1' })).resolves.toBe('kind: ConfigMap');
    expect(storage.readDeployedManifest).toHaveBeenCalledWith('web-1', 'web-1');
    await expect(sut.render({ release: 'web-1', namespace: 'web-1', chart: { ref: 'oci://x/y' }, values: {} })).resolves.toBe('rendered');
  });
});
