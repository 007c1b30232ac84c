import { setTimeout as delay } from 'node:timers/promises';

import type { KubeClient, WatchEvent } from './kube.client';
import { KubeError } from './kube.errors';
import type { KubeObject, ObjectRef } from './kube.types';
import { silentLogger, type PlatformLogger } from '../logger';

export type MetadataWatchSource = Pick<KubeClient, 'listAllMetadata' | 'watchMetadata'>;

/** Labels helm puts on everything it installs, and on its release Secrets. */
export const HELM_MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=Helm';
export const HELM_RELEASE_SECRET_SELECTOR = 'owner=helm';

export interface MetadataCacheOptions {
  logger?: PlatformLogger;
  /** Selects the release objects watched per kind (default: helm's managed-by label). */
  objectSelector?: string;
  /** Selects Helm's release Secrets (default `owner=helm`). */
  releaseSecretSelector?: string;
  /** The API server ends each watch after this long, and it is started again (default 300 s). */
  watchTimeoutSeconds?: number;
  /** Back-off after a failed list or watch: doubles from `minBackoffMs` up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** After a 403 or 404 (no list/watch right, unknown kind) the kind is tried again this much later (default 10 min). */
  deniedRetryMs?: number;
}

/** What is kept of an object: enough to tell whether it changed, and to find release Secrets. */
interface Entry {
  resourceVersion: string;
  labels?: Record<string, string>;
}

/** One list + watch of one kind (all namespaces) with one label selector. */
class KindWatch {
  synced = false;
  resourceVersion = '';
  /** namespace ('' when cluster-scoped) → name → entry */
  readonly objects = new Map<string, Map<string, Entry>>();
  restarts = 0;

  constructor(
    readonly apiVersion: string,
    readonly kind: string,
    readonly selector: string,
  ) {}

  get size(): number {
    let n = 0;
    for (const names of this.objects.values()) n += names.size;
    return n;
  }

  entry(namespace: string | undefined, name: string): Entry | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  replace(items: KubeObject[], resourceVersion: string): void {
    this.objects.clear();
    for (const item of items) this.put(item);
    this.resourceVersion = resourceVersion;
  }

  apply(event: WatchEvent): void {
    const meta = event.object.metadata;
    if (event.type === 'BOOKMARK') {
      if (meta?.resourceVersion) this.resourceVersion = meta.resourceVersion;
      return;
    }
    if (event.type === 'DELETED') {
      const names = this.objects.get(meta.namespace ?? '');
      names?.delete(meta.name);
      if (names && names.size === 0) this.objects.delete(meta.namespace ?? '');
    } else {
      this.put(event.object);
    }
    if (meta.resourceVersion) this.resourceVersion = meta.resourceVersion;
  }

  private put(item: KubeObject): void {
    const meta = item.metadata;
    if (!meta?.name || !meta.resourceVersion) return;
    let names = this.objects.get(meta.namespace ?? '');
    if (!names) this.objects.set(meta.namespace ?? '', (names = new Map<string, Entry>()));
    names.set(meta.name, { resourceVersion: meta.resourceVersion, ...(meta.labels ? { labels: meta.labels } : {}) });
  }
}

/**
 * A watch-fed cache of the metadata (resourceVersion and labels) of release objects, so a steady
 * drift check reads nothing from the API server: per kind, one list and one long-lived watch of
 * the helm-managed objects of all namespaces (PartialObjectMetadata, no spec or status), and one
 * of Helm's release Secrets. A kind is watched from the first time a drift check asks for it.
 *
 * It is an optimisation only. Every lookup answers `undefined` ("ask the API server") unless the
 * kind's watch is synced and holds the object: while a watch is being (re)established, when the
 * worker may not list or watch a kind (RBAC, a 403), or for an object the selector does not
 * cover. What it can get wrong is bounded by watch latency: a change not yet delivered is seen at
 * the next check. Callers re-read from the API server before acting on what it says (see
 * createDriftActivities).
 *
 * Hand-written rather than client-node's informer (makeInformer/ListWatch): those cannot request
 * metadata only, so they would list and stream whole objects, release Secrets included.
 */
export class MetadataCache {
  private readonly watches = new Map<string, KindWatch>();
  private readonly abort = new AbortController();
  private readonly logger: PlatformLogger;
  private readonly objectSelector: string;
  private readonly secretSelector: string;

  constructor(
    private readonly source: MetadataWatchSource,
    private readonly options: MetadataCacheOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.objectSelector = options.objectSelector ?? HELM_MANAGED_SELECTOR;
    this.secretSelector = options.releaseSecretSelector ?? HELM_RELEASE_SECRET_SELECTOR;
  }

  /** The object's resourceVersion as last watched; undefined when the cache cannot tell. */
  resourceVersionOf(ref: ObjectRef): string | undefined {
    const watch = this.watchOf(ref.apiVersion, ref.kind, this.objectSelector);
    return watch?.synced ? watch.entry(ref.namespace, ref.name)?.resourceVersion : undefined;
  }

  /**
   * Metadata of the release's Secrets in Helm's storage (names, labels, resourceVersions), as
   * `listSecretMetadata` returns them; undefined when the Secret watch is not synced.
   */
  releaseSecrets(namespace: string, release: string): KubeObject[] | undefined {
    const watch = this.watchOf('v1', 'Secret', this.secretSelector);
    if (!watch?.synced) return undefined;
    const out: KubeObject[] = [];
    for (const [name, entry] of watch.objects.get(namespace) ?? []) {
      if (entry.labels?.name !== release) continue;
      out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, resourceVersion: entry.resourceVersion, labels: entry.labels } });
    }
    return out;
  }

  /** Kinds watched and how many objects each holds, for logs and tests. */
  stats(): { kind: string; selector: string; synced: boolean; objects: number; restarts: number }[] {
    return [...this.watches.values()].map((w) => ({ kind: `${w.apiVersion}/${w.kind}`, selector: w.selector, synced: w.synced, objects: w.size, restarts: w.restarts }));
  }

  /** Resolves once the watches started so far are synced (tests, start-up), or after `timeoutMs`. */
  async whenSynced(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ([...this.watches.values()].every((w) => w.synced)) return true;
      await delay(50, undefined, { signal: this.abort.signal, ref: false }).catch(() => undefined);
      if (this.abort.signal.aborted) return false;
    }
    return false;
  }

  /** Starts watching the kind now instead of at its first lookup. */
  prime(apiVersion: string, kind: string, releaseSecrets = false): void {
    this.watchOf(apiVersion, kind, releaseSecrets ? this.secretSelector : this.objectSelector);
  }

  close(): void {
    this.abort.abort();
    for (const w of this.watches.values()) w.synced = false;
  }

  private watchOf(apiVersion: string, kind: string, selector: string): KindWatch | undefined {
    if (this.abort.signal.aborted) return undefined;
    const key = `${apiVersion}|${kind}|${selector}`;
    let watch = this.watches.get(key);
    if (!watch) {
      watch = new KindWatch(apiVersion, kind, selector);
      this.watches.set(key, watch);
      void this.run(watch);
    }
    return watch;
  }

  /** List, then watch from the list's resourceVersion until the watch fails; then again. */
  private async run(w: KindWatch): Promise<void> {
    const signal = this.abort.signal;
    const what = `${w.kind} (${w.selector})`;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const list = await this.source.listAllMetadata(w.apiVersion, w.kind, { labelSelector: w.selector });
        w.replace(list.items, list.resourceVersion);
        w.synced = true;
        if (failures > 0 || w.restarts === 0) this.logger.info({ kind: what, objects: list.items.length }, 'drift cache: watching');
        failures = 0;
        for (;;) {
          const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
          // Spread the watches' restarts (client-go picks 5 to 10 minutes the same way).
          const jittered = Math.round(timeoutSeconds * (1 + Math.random() / 2));
          await this.source.watchMetadata(
            w.apiVersion,
            w.kind,
            { labelSelector: w.selector, resourceVersion: w.resourceVersion, timeoutSeconds: jittered, idleTimeoutMs: (jittered + 60) * 1000, signal },
            (event) => w.apply(event),
          );
          if (signal.aborted) return;
        }
      } catch (err) {
        w.synced = false;
        if (signal.aborted) return;
        w.restarts++;
        const status = err instanceof KubeError ? err.status : undefined;
        if (status === 410) {
          // The watch fell too far behind (Expired): list again at once.
          this.logger.debug({ kind: what }, 'drift cache: watch expired, listing again');
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        if (status === 403 || status === 404) {
          const retryMs = this.options.deniedRetryMs ?? 600_000;
          this.logger.warn({ kind: what, error: message, retryInSeconds: Math.round(retryMs / 1000) }, 'drift cache: cannot list and watch this kind; drift checks read it from the API server');
          await delay(retryMs, undefined, { signal, ref: false }).catch(() => undefined);
          continue;
        }
        failures++;
        const backoff = Math.min((this.options.minBackoffMs ?? 1000) * 2 ** (failures - 1), this.options.maxBackoffMs ?? 60_000);
        if (failures === 1) this.logger.warn({ kind: what, error: message }, 'drift cache: watch failed; drift checks read from the API server until it is back');
        else this.logger.debug({ kind: what, error: message, failures, backoffMs: backoff }, 'drift cache: watch still failing');
        await delay(backoff, undefined, { signal, ref: false }).catch(() => undefined);
      }
    }
  }
}
