import { KubeError, KubeObject, silentLogger, WatchEvent, WatchMetadataOptions } from '../../../platform/src';
import type { DriftSignalReason } from '../contract';
import { ClusterWatch, ClusterWatchDeps, kindKey, WatchedKind } from './cluster-watch';

const CM: WatchedKind = { apiVersion: 'v1', kind: 'ConfigMap', selector: 'app.kubernetes.io/managed-by=Helm' };
const DEPLOY: WatchedKind = { apiVersion: 'apps/v1', kind: 'Deployment', selector: 'app.kubernetes.io/managed-by=Helm' };

const cm = (namespace: string, name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion: rv } });

/** A kube API whose lists and watch streams the test scripts. */
class FakeKube {
  lists: Record<string, KubeObject[]> = {};
  listed: string[] = [];
  watchedFrom: string[] = [];
  /** Pushes an event into the open watch of that kind. */
  private streams = new Map<string, (e: WatchEvent) => void>();
  private failures = new Map<string, KubeError>();
  /** Kinds the worker's RBAC leaves out (its access review says no). */
  refused = new Set<string>();
  reviewed: string[] = [];

  async mayListAndWatchEverywhere(apiVersion: string, kind: string): Promise<boolean> {
    this.reviewed.push(kind);
    return !this.refused.has(kind);
  }

  async listAllMetadata(apiVersion: string, kind: string): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    this.listed.push(kind);
    return { items: this.lists[kind] ?? [], resourceVersion: '100' };
  }

  watchMetadata(apiVersion: string, kind: string, options: WatchMetadataOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    this.watchedFrom.push(`${kind}@${options.resourceVersion}`);
    const failure = this.failures.get(kind);
    if (failure) {
      this.failures.delete(kind);
      return Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      this.streams.set(kind, onEvent);
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
      this.rejecters.set(kind, reject);
    });
  }

  private rejecters = new Map<string, (err: unknown) => void>();

  emit(kind: string, type: WatchEvent['type'], object: KubeObject): void {
    this.streams.get(kind)!({ type, object });
  }

  failNextWatch(kind: string, err: KubeError): void {
    this.failures.set(kind, err);
  }

  /** Ends the open watch of a kind with an error. */
  breakWatch(kind: string, err: KubeError): void {
    this.rejecters.get(kind)!(err);
  }

  watching(kind: string): boolean {
    return this.streams.has(kind);
  }
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe(ClusterWatch.name, () => {
  let kube: FakeKube;
  let signals: { uid: string; reason: DriftSignalReason }[];
  let live: Set<string>;
  let stop: AbortController;
  let running: Promise<void>;

  const start = (over: Partial<ClusterWatchDeps> = {}, checkpoint?: { resourceVersions: Record<string, string> }) => {
    const sut = new ClusterWatch(
      {
        kube,
        logger: silentLogger,
        kinds: [CM, DEPLOY],
        settleMs: 20,
        windowMs: 100,
        resyncPerSecond: 1000,
        signal: async (uid, reason) => {
          signals.push({ uid, reason });
          return true;
        },
        liveUids: async (uids) => uids.filter((u) => live.has(u)),
        ...over,
      },
      checkpoint,
    );
    stop = new AbortController();
    running = sut.run(stop.signal);
    return sut;
  };

  beforeEach(() => {
    kube = new FakeKube();
    signals = [];
    live = new Set(['d-1', 'd-2']);
  });

  afterEach(async () => {
    stop.abort();
    await running;
  });

  it('lists afresh without a checkpoint and checks each deployment of this installation once', async () => {
    kube.lists.ConfigMap = [cm('d-1', 'a', '5'), cm('d-1', 'b', '6'), cm('kube-system', 'x', '7'), cm('d-2', 'c', '8')];
    start();
    await until(() => signals.length === 2);
    expect(signals.sort((a, b) => a.uid.localeCompare(b.uid))).toEqual([
      { uid: 'd-1', reason: 'resync' },
      { uid: 'd-2', reason: 'resync' },
    ]);
    expect(kube.watchedFrom).toEqual(expect.arrayContaining(['ConfigMap@100', 'Deployment@100']));
  });

  it('signals the owning deployment once for a burst of changes, and not for a status update', async () => {
    const sut = start({}, { resourceVersions: { [kindKey(CM)]: '50', [kindKey(DEPLOY)]: '50' } });
    await until(() => kube.watching('ConfigMap') && kube.watching('Deployment'));
    expect(kube.listed).toEqual([]);
    kube.emit('ConfigMap', 'DELETED', cm('d-1', 'a', '51'));
    kube.emit('Deployment', 'MODIFIED', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'd-1', resourceVersion: '52', generation: 2 } });
    await until(() => signals.length === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(signals).toEqual([{ uid: 'd-1', reason: 'changed' }]);
    // The same generation again: a status update.
    kube.emit('Deployment', 'MODIFIED', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'd-1', resourceVersion: '53', generation: 2 } });
    // An object in a namespace that is not one of this installation's deployments.
    kube.emit('ConfigMap', 'ADDED', cm('other', 'z', '54'));
    kube.emit('ConfigMap', 'BOOKMARK', cm('', '', '60'));
    await until(() => sut.checkpoint.resourceVersions[kindKey(CM)] === '60');
    expect(signals).toEqual([{ uid: 'd-1', reason: 'changed' }]);
    expect(sut.checkpoint.resourceVersions[kindKey(DEPLOY)]).toBe('53');
  });

  it('resumes a watch from the checkpoint, and lists again (checking every deployment) when the resume point expired', async () => {
    kube.lists.ConfigMap = [cm('d-2', 'c', '8')];
    kube.failNextWatch('ConfigMap', new KubeError('too old resource version', 410, 'Expired', true));
    start({}, { resourceVersions: { [kindKey(CM)]: '10', [kindKey(DEPLOY)]: '10' } });
    await until(() => signals.length === 1);
    expect(signals).toEqual([{ uid: 'd-2', reason: 'resync' }]);
    expect(kube.watchedFrom).toEqual(expect.arrayContaining(['ConfigMap@10', 'Deployment@10', 'ConfigMap@100']));
    expect(kube.listed).toEqual(['ConfigMap']);
  });

  it('sends a signal again when Temporal could not be reached, and holds the checkpoint until it went', async () => {
    let fail = true;
    const sut = start(
      {
        signal: async (uid, reason) => {
          if (fail) throw new Error('unavailable');
          signals.push({ uid, reason });
          return true;
        },
      },
      { resourceVersions: { [kindKey(CM)]: '50', [kindKey(DEPLOY)]: '50' } },
    );
    await until(() => kube.watching('ConfigMap'));
    kube.emit('ConfigMap', 'MODIFIED', cm('d-2', 'c', '70'));
    await new Promise((r) => setTimeout(r, 200));
    expect(sut.checkpoint.resourceVersions[kindKey(CM)]).toBe('50');
    fail = false;
    await until(() => signals.length === 1, 5000);
    expect(signals).toEqual([{ uid: 'd-2', reason: 'changed' }]);
    await until(() => sut.checkpoint.resourceVersions[kindKey(CM)] === '70', 7000);
  });

  it('does not signal a deployment whose workflow is not running, and counts it', async () => {
    const sut = start({ signal: async () => false }, { resourceVersions: { [kindKey(CM)]: '50', [kindKey(DEPLOY)]: '50' } });
    await until(() => kube.watching('ConfigMap'));
    kube.emit('ConfigMap', 'MODIFIED', cm('d-1', 'a', '71'));
    await until(() => sut.stats().notRunning === 1);
    expect(sut.stats().signalled).toBe(0);
  });

  it('asks before listing, and neither lists nor watches a kind the worker may not list and watch everywhere', async () => {
    kube.refused.add('Deployment');
    const sut = start({ deniedRetryMs: 60_000 });
    await until(() => kube.watching('ConfigMap'));
    expect(kube.reviewed).toEqual(expect.arrayContaining(['ConfigMap', 'Deployment']));
    expect(kube.listed).toEqual(['ConfigMap']);
    expect(kube.watching('Deployment')).toBe(false);
    expect(sut.stats().kinds).toEqual(expect.arrayContaining([expect.objectContaining({ kind: expect.stringContaining('Deployment'), watching: false })]));
  });
});
