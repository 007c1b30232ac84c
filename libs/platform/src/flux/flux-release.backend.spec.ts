import { HelmError } from '../helm/helm.errors';
import { KubeError } from '../kubernetes/kube.errors';
import type { KubeObject, ObjectRef } from '../kubernetes/kube.types';
import type { WatchEvent } from '../kubernetes/metadata-watch';
import { FluxReleaseBackend, FluxReleaseBackendDeps } from './flux-release.backend';
import { FORCE_REQUESTED_AT, RECONCILE_REQUESTED_AT, VALUES_SECRET_NAME } from './flux.objects';

const DIGEST = `sha256:${'cd'.repeat(32)}`;
const key = (r: ObjectRef) => `${r.kind}/${r.namespace}/${r.name}`;

/**
 * The API server and helm-controller, as far as the backend sees them: objects with
 * resourceVersions, lists, and watches that get every change after their resourceVersion. After
 * each write of a HelmRelease, `controller` runs in rounds (a few ms apart) until it handled the
 * write's reconcile request, each round's status change sent to the watches.
 */
class FakeCluster {
  readonly objects = new Map<string, KubeObject>();
  readonly applied: KubeObject[] = [];
  controller: (hr: KubeObject) => void = () => undefined;
  /** How long a deleted HelmRelease stays (its finalizer uninstalling the release); never gone when undefined. */
  finalizerMs: number | undefined = 0;
  /** Reconcile rounds the controller ran. */
  rounds = 0;
  private version = 0;
  private readonly log: { rv: number; key: string; type: WatchEvent['type']; object: KubeObject }[] = [];
  private readonly watchers = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();

  get = jest.fn(async <T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> => {
    const obj = this.objects.get(key(ref));
    return obj && (structuredClone(obj) as T);
  });

  listWithVersion = jest.fn(async (apiVersion: string, kind: string, options: { namespace?: string; fieldSelector?: string }) => {
    const name = /^metadata\.name=(.+)$/.exec(options.fieldSelector ?? '')?.[1];
    const obj = this.objects.get(key({ apiVersion, kind, name: name!, namespace: options.namespace }));
    return { items: obj ? [structuredClone(obj)] : [], resourceVersion: String(this.version) };
  });

  watchObjects = jest.fn(
    (apiVersion: string, kind: string, options: { namespace: string; fieldSelector?: string; resourceVersion: string; signal?: AbortSignal }, onEvent: (e: WatchEvent) => void) =>
      new Promise<void>((resolve) => {
        const name = /^metadata\.name=(.+)$/.exec(options.fieldSelector ?? '')?.[1];
        const k = key({ apiVersion, kind, name: name!, namespace: options.namespace });
        let seen = Number(options.resourceVersion);
        const deliver = () => {
          for (const e of this.log) {
            if (e.rv <= seen || e.key !== k) continue;
            seen = e.rv;
            onEvent({ type: e.type, object: structuredClone(e.object) });
          }
        };
        const end = () => {
          this.watchers.delete(deliver);
          resolve();
        };
        if (options.signal?.aborted) return end();
        options.signal?.addEventListener('abort', end, { once: true });
        this.watchers.add(deliver);
        deliver();
      }),
  );

  apply = jest.fn(async <T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> => {
    this.applied.push(structuredClone(obj));
    const k = key({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace });
    const existing = this.objects.get(k);
    const generation = ((existing?.metadata.generation as number | undefined) ?? 0) + (JSON.stringify(existing?.spec) === JSON.stringify(obj.spec) ? 0 : 1);
    this.write(k, existing ? 'MODIFIED' : 'ADDED', { ...structuredClone(obj), metadata: { ...obj.metadata, generation }, status: existing?.status });
    if (obj.kind === 'HelmRelease') this.reconcile(k);
    return obj as T;
  });

  mergePatch = jest.fn(async (ref: ObjectRef, patch: Record<string, unknown>) => {
    const obj = this.objects.get(key(ref));
    if (!obj) throw new KubeError(`patch ${ref.kind} ${ref.namespace}/${ref.name}: not found`, 404, 'NotFound', false);
    this.write(key(ref), 'MODIFIED', { ...obj, spec: { ...(obj.spec as object), ...(patch.spec as object) } });
    return structuredClone(this.objects.get(key(ref))!);
  });

  delete = jest.fn(async (ref: ObjectRef) => {
    const k = key(ref);
    const obj = this.objects.get(k);
    if (!obj) return false;
    if (ref.kind !== 'HelmRelease') {
      this.remove(k);
      return true;
    }
    this.write(k, 'MODIFIED', { ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date().toISOString() } });
    if (this.finalizerMs !== undefined) this.later(this.finalizerMs, () => this.remove(k));
    return true;
  });

  /** A change made while no backend call runs (e.g. the controller's status, or someone else's write). */
  write(k: string, type: WatchEvent['type'], obj: KubeObject): void {
    const object = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.version) } };
    this.objects.set(k, object);
    this.log.push({ rv: this.version, key: k, type, object: structuredClone(object) });
    for (const w of this.watchers) w();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private remove(k: string): void {
    const obj = this.objects.get(k);
    if (!obj) return;
    this.objects.delete(k);
    this.log.push({ rv: ++this.version, key: k, type: 'DELETED', object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.version) } } });
    for (const w of this.watchers) w();
  }

  /** helm-controller's rounds on a HelmRelease until it handled the request (at most 20). */
  private reconcile(k: string, round = 0): void {
    this.later(2, () => {
      const obj = this.objects.get(k);
      const handled = () => (obj?.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt === obj?.metadata.annotations?.[RECONCILE_REQUESTED_AT];
      if (!obj || obj.metadata.deletionTimestamp || handled()) return;
      const next = structuredClone(obj);
      this.rounds++;
      this.controller(next);
      if (JSON.stringify(next.status) !== JSON.stringify(obj.status)) this.write(k, 'MODIFIED', next);
      if (round < 20) this.reconcile(k, round + 1);
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
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

  afterEach(() => cluster.stop());

  beforeEach(() => {
    cluster = new FakeCluster();
    // jest.fn drops the generic signatures of get/apply; the fake returns what the client would.
    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], storage, render, intervalSeconds: 60 });
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
    // Waited on watches of the HelmRelease and its OCIRepository, after one list of each.
    expect(cluster.listWithVersion.mock.calls.map(([, kind]) => kind)).toEqual(['HelmRelease', 'OCIRepository']);
    expect(cluster.watchObjects.mock.calls.map(([, kind]) => kind).sort()).toEqual(['HelmRelease', 'OCIRepository']);
    expect(cluster.get).toHaveBeenCalledTimes(1);
  });

  it('fails when the OCIRepository reports the pull failed while the HelmRelease only says the source is not ready', async () => {
    cluster.controller = handles({ ready: false, reason: 'SourceNotReady', message: 'OCIRepository web-1/web-1 is not ready' });
    const applying = sut.apply(request());
    // source-controller's verdict arrives later, on the OCIRepository alone.
    await new Promise((r) => setTimeout(r, 20));
    const k = 'OCIRepository/web-1/web-1';
    const source = cluster.objects.get(k)!;
    const observedGeneration = source.metadata.generation;
    cluster.write(k, 'MODIFIED', {
      ...source,
      status: {
        conditions: [
          { type: 'Ready', status: 'False', reason: 'OCIArtifactPullFailed', message: 'failed to pull artifact: manifest unknown', observedGeneration },
          { type: 'FetchFailed', status: 'True', reason: 'OCIArtifactPullFailed', message: 'failed to pull artifact: manifest unknown', observedGeneration },
        ],
      },
    });
    await expect(applying).rejects.toMatchObject({ message: expect.stringMatching(/flux: failed to pull artifact: manifest unknown/) });
  });

  it('writes the values Secret with the client it is given for the namespace (the tenant’s)', async () => {
    const tenant = { apply: jest.fn(async (o: KubeObject) => o), delete: jest.fn(async () => true) };
    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], tenantIn: () => tenant as never, storage, render, intervalSeconds: 60 });
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
    // helm-controller reports progress three times before it handled the second request; the
    // HelmRelease still says Ready=True (for the first) all along.
    let rounds = 0;
    cluster.controller = (hr) => {
      if (++rounds > 3) return handles({ ready: true, revision: 2 })(hr);
      const status = hr.status as { conditions: unknown[] };
      hr.status = {
        ...status,
        conditions: [...status.conditions.filter((c) => (c as { type: string }).type !== 'Reconciling'), { type: 'Reconciling', status: 'True', reason: 'Progressing', message: `round ${rounds}` }],
      };
    };
    const progress: string[] = [];
    await expect(sut.apply({ ...request({ values: { user: { title: 'changed' } } }), onProgress: (l: string) => progress.push(l) })).resolves.toEqual({ revision: 2, unlocked: false });
    expect(rounds).toBe(4);
    expect(progress.filter((l) => /Progressing: round/.test(l))).toHaveLength(3);
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
    cluster.finalizerMs = 30;
    cluster.listWithVersion.mockClear();
    cluster.watchObjects.mockClear();
    const progress: string[] = [];
    await expect(sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 30, onProgress: (l: string) => progress.push(l) })).resolves.toEqual({ uninstalled: true, kept: [] });
    // One list and one watch, however long the finalizer took: no reads on a timer.
    expect(cluster.listWithVersion).toHaveBeenCalledTimes(1);
    expect(cluster.watchObjects).toHaveBeenCalledTimes(1);
    expect(progress).toEqual(['waiting for helm-controller to uninstall web-1']);
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
    cluster.finalizerMs = undefined;
    await expect(sut.uninstall({ release: 'web-1', namespace: 'web-1', timeoutSeconds: 0 })).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/is helm-controller running/) });
  });

  it('projects the drift detection mode it is given, and reads no Events for drift reports when it is disabled', async () => {
    const tenant = { apply: jest.fn(async (o: KubeObject) => o), delete: jest.fn(async () => true), list: jest.fn(async () => []) };
    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], tenantIn: () => tenant as never, storage, render, intervalSeconds: 60, driftDetection: 'disabled' });
    cluster.controller = handles({ ready: true, revision: 1 });
    await sut.apply(request());
    expect(cluster.applied.find((o) => o.kind === 'HelmRelease')?.spec).toMatchObject({ driftDetection: { mode: 'disabled' } });
    await expect(sut.driftReports({ release: 'web-1', namespace: 'web-1' }, new Date(0))).resolves.toEqual([]);
    expect(tenant.list).not.toHaveBeenCalled();

    sut = new FluxReleaseBackend({ kube: cluster as unknown as FluxReleaseBackendDeps['kube'], tenantIn: () => tenant as never, storage, render, intervalSeconds: 60, driftDetection: 'warn' });
    await sut.driftReports({ release: 'web-1', namespace: 'web-1' }, new Date(0));
    expect(tenant.list).toHaveBeenCalledWith('v1', 'Event', expect.objectContaining({ namespace: 'web-1' }));
  });

  it('reads the deployed manifest from helm storage and renders with helm', async () => {
    await expect(sut.readDeployedManifest({ release: 'web-1', namespace: 'web-1' })).resolves.toBe('kind: ConfigMap');
    expect(storage.readDeployedManifest).toHaveBeenCalledWith('web-1', 'web-1');
    await expect(sut.render({ release: 'web-1', namespace: 'web-1', chart: { ref: 'oci://x/y' }, values: {} })).resolves.toBe('rendered');
  });
});
