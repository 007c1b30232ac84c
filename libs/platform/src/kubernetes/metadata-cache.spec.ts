import { KubeError } from './kube.errors';
import type { WatchEvent, WatchMetadataOptions } from './kube.client';
import type { KubeObject } from './kube.types';
import { MetadataCache, type MetadataWatchSource } from './metadata-cache';

const meta = (kind: string, namespace: string, name: string, resourceVersion: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
  kind,
  metadata: { name, namespace, resourceVersion, ...(labels ? { labels } : {}) },
});

interface OpenWatch {
  kind: string;
  options: WatchMetadataOptions;
  emit: (e: WatchEvent) => void;
  end: () => void;
  fail: (err: unknown) => void;
}

/** A scripted API server: lists answer from `listed`, each watch stays open until the test ends or fails it. */
function fakeSource(listed: Record<string, KubeObject[]>) {
  const watches: OpenWatch[] = [];
  const lists: { kind: string; labelSelector?: string }[] = [];
  const listErrors: Error[] = [];
  const source: MetadataWatchSource = {
    listAllMetadata: jest.fn(async (_apiVersion: string, kind: string, options: { labelSelector?: string } = {}) => {
      lists.push({ kind, labelSelector: options.labelSelector });
      const err = listErrors.shift();
      if (err) throw err;
      return { items: listed[kind] ?? [], resourceVersion: '100' };
    }),
    watchMetadata: jest.fn(
      (_apiVersion: string, kind: string, options: WatchMetadataOptions, onEvent: (e: WatchEvent) => void) =>
        new Promise<void>((resolve, reject) => {
          const w = { kind, options, emit: onEvent, end: resolve, fail: reject };
          watches.push(w);
          options.signal?.addEventListener('abort', () => resolve(), { once: true });
        }),
    ),
  };
  return { source, watches, lists, listErrors };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('MetadataCache', () => {
  let cache: MetadataCache | undefined;
  afterEach(() => cache?.close());

  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns1', name: 'web' };

  it('answers nothing until the kind is listed, then follows the watch', async () => {
    const { source, watches, lists } = fakeSource({ Deployment: [meta('Deployment', 'ns1', 'web', '5')] });
    cache = new MetadataCache(source);

    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    await settle();
    expect(lists).toEqual([{ kind: 'Deployment', labelSelector: 'app.kubernetes.io/managed-by=Helm' }]);
    expect(cache.resourceVersionOf(ref)).toBe('5');
    expect(cache.resourceVersionOf({ ...ref, namespace: 'ns2' })).toBeUndefined();
    expect(watches[0].options.resourceVersion).toBe('100');

    watches[0].emit({ type: 'MODIFIED', object: meta('Deployment', 'ns1', 'web', '7') });
    expect(cache.resourceVersionOf(ref)).toBe('7');
    watches[0].emit({ type: 'DELETED', object: meta('Deployment', 'ns1', 'web', '8') });
    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    watches[0].emit({ type: 'ADDED', object: meta('Deployment', 'ns1', 'web', '9') });
    expect(cache.resourceVersionOf(ref)).toBe('9');
    expect(cache.stats()).toEqual([{ kind: 'apps/v1/Deployment', selector: 'app.kubernetes.io/managed-by=Helm', synced: true, objects: 1, restarts: 0 }]);
  });

  it('watches again from the last resourceVersion seen when the server ends a watch, without listing', async () => {
    const { source, watches, lists } = fakeSource({});
    cache = new MetadataCache(source);
    cache.prime('apps/v1', 'Deployment');
    await settle();
    watches[0].emit({ type: 'ADDED', object: meta('Deployment', 'ns1', 'web', '120') });
    watches[0].emit({ type: 'BOOKMARK', object: meta('Deployment', '', '', '150') });
    watches[0].end();
    await settle();
    expect(watches).toHaveLength(2);
    expect(watches[1].options.resourceVersion).toBe('150');
    expect(lists).toHaveLength(1);
    expect(cache.resourceVersionOf(ref)).toBe('120');
  });

  it('lists again at once when the watch expired (410), and answers nothing meanwhile', async () => {
    const { source, watches, lists } = fakeSource({ Deployment: [meta('Deployment', 'ns1', 'web', '5')] });
    cache = new MetadataCache(source);
    cache.prime('apps/v1', 'Deployment');
    await settle();
    watches[0].fail(new KubeError('too old resource version', 410, 'Expired', true));
    await settle();
    expect(lists).toHaveLength(2);
    expect(watches).toHaveLength(2);
    expect(cache.resourceVersionOf(ref)).toBe('5');
  });

  it('falls back to the API server while a watch is failing, and recovers after a back-off', async () => {
    const { source, watches, lists, listErrors } = fakeSource({ Deployment: [meta('Deployment', 'ns1', 'web', '5')] });
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn() };
    cache = new MetadataCache(source, { logger, minBackoffMs: 5, maxBackoffMs: 5 });
    cache.prime('apps/v1', 'Deployment');
    await settle();
    listErrors.push(new KubeError('connection refused', undefined, 'NetworkError', true));
    watches[0].fail(new KubeError('connection reset', undefined, 'NetworkError', true));
    await settle();
    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ error: 'connection reset' }), expect.stringContaining('watch failed'));
    await expect(cache.whenSynced(2000)).resolves.toBe(true);
    expect(lists.length).toBe(3);
    expect(cache.resourceVersionOf(ref)).toBe('5');
    expect(cache.stats()[0].restarts).toBe(2);
  });

  it('gives up on a kind it may not list or watch (403) and says so once', async () => {
    const { source, listErrors, watches } = fakeSource({});
    listErrors.push(new KubeError('deployments.apps is forbidden', 403, 'Forbidden', false));
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn() };
    cache = new MetadataCache(source, { logger, deniedRetryMs: 60_000 });
    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    await settle();
    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    expect(watches).toHaveLength(0);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][1]).toContain('cannot list and watch');
  });

  it("finds a release's Secrets by namespace and release name", async () => {
    const secret = (ns: string, release: string, revision: number, status: string, rv: string) =>
      meta('Secret', ns, `sh.helm.release.v1.${release}.v${revision}`, rv, { owner: 'helm', name: release, status, version: String(revision) });
    const { source, watches, lists } = fakeSource({
      Secret: [secret('ns1', 'web', 1, 'superseded', '10'), secret('ns1', 'web', 2, 'deployed', '11'), secret('ns1', 'api', 1, 'deployed', '12'), secret('ns2', 'web', 1, 'deployed', '13')],
    });
    cache = new MetadataCache(source);
    expect(cache.releaseSecrets('ns1', 'web')).toBeUndefined();
    await settle();
    expect(lists).toEqual([{ kind: 'Secret', labelSelector: 'owner=helm' }]);
    expect(cache.releaseSecrets('ns1', 'web')!.map((s) => [s.metadata.name, s.metadata.resourceVersion, s.metadata.labels?.status])).toEqual([
      ['sh.helm.release.v1.web.v1', '10', 'superseded'],
      ['sh.helm.release.v1.web.v2', '11', 'deployed'],
    ]);
    expect(cache.releaseSecrets('ns3', 'web')).toEqual([]);
    watches[0].emit({ type: 'MODIFIED', object: secret('ns1', 'web', 2, 'superseded', '20') });
    watches[0].emit({ type: 'ADDED', object: secret('ns1', 'web', 3, 'deployed', '21') });
    expect(
      cache
        .releaseSecrets('ns1', 'web')!
        .filter((s) => s.metadata.labels?.status === 'deployed')
        .map((s) => s.metadata.name),
    ).toEqual(['sh.helm.release.v1.web.v3']);
  });

  it('stops its watches when closed and answers nothing after', async () => {
    const { source, watches } = fakeSource({ Deployment: [meta('Deployment', 'ns1', 'web', '5')] });
    cache = new MetadataCache(source);
    cache.prime('apps/v1', 'Deployment');
    await settle();
    cache.close();
    await settle();
    expect(watches[0].options.signal?.aborted).toBe(true);
    expect(cache.resourceVersionOf(ref)).toBeUndefined();
    expect(watches).toHaveLength(1);
  });
});
