import { HELM_MANAGED_SELECTOR, HELM_RELEASE_SECRET_SELECTOR, KubeClient, KubeError, PlatformLogger, WatchEvent } from '../../../platform/src';
import type { DriftSignalReason, WatchCheckpoint } from '../contract';
import { ChangeFilter } from './change-filter';
import { DueSignal, SignalBatcher } from './signal-batcher';

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  selector: string;
}

const managed = (apiVersion: string, kind: string): WatchedKind => ({ apiVersion, kind, selector: HELM_MANAGED_SELECTOR });

/**
 * What the watcher watches: Helm's release Secrets, and the helm-managed objects of the kinds the
 * default tenant ClusterRole may create (a release holds nothing else unless an operator widens
 * that role). A kind the worker may not list and watch (RBAC: the chart's rbac.productResources)
 * is tried again every ten minutes; its changes are found by the safety-net check meanwhile.
 */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  { apiVersion: 'v1', kind: 'Secret', selector: HELM_RELEASE_SECRET_SELECTOR },
  managed('v1', 'ConfigMap'),
  managed('v1', 'Secret'),
  managed('v1', 'Service'),
  managed('v1', 'PersistentVolumeClaim'),
  managed('v1', 'ServiceAccount'),
  managed('apps/v1', 'Deployment'),
  managed('apps/v1', 'StatefulSet'),
  managed('apps/v1', 'DaemonSet'),
  managed('batch/v1', 'Job'),
  managed('batch/v1', 'CronJob'),
  managed('networking.k8s.io/v1', 'Ingress'),
  managed('autoscaling/v2', 'HorizontalPodAutoscaler'),
  managed('policy/v1', 'PodDisruptionBudget'),
];

export function kindKey(k: WatchedKind): string {
  return `${k.apiVersion}|${k.kind}|${k.selector}`;
}

export interface ClusterWatchDeps {
  kube: Pick<KubeClient, 'listAllMetadata' | 'watchMetadata' | 'mayListAndWatchEverywhere'>;
  /** Signals the deployment's workflow; false when it has no running workflow. Throws when Temporal cannot be reached. */
  signal(deploymentUid: string, reason: DriftSignalReason): Promise<boolean>;
  /** Of these uids, those of this installation's deployments that are not deleted (namespace name = deployment uid). */
  liveUids(uids: readonly string[]): Promise<string[]>;
  logger: PlatformLogger;
  kinds?: readonly WatchedKind[];
  /** Debounce (default 300 ms) and per-deployment window (default 1 s) of the signals. */
  settleMs?: number;
  windowMs?: number;
  /** Deployments checked per second after a fresh list (default 20). */
  resyncPerSecond?: number;
  watchTimeoutSeconds?: number;
  deniedRetryMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

/** One watched kind: where its watch stands and what was seen of its objects. */
interface KindState extends WatchedKind {
  key: string;
  /** Where the watch resumes; '' when it must list first. */
  resourceVersion: string;
  filter: ChangeFilter;
  /** The worker may list and watch it everywhere (asked once, again after a refusal). */
  allowed?: boolean;
}

export interface ClusterWatchStats {
  signalled: number;
  notRunning: number;
  resyncs: number;
  kinds: { kind: string; watching: boolean; objects: number }[];
}

/**
 * The cluster watcher's engine: per kind, one metadata list and watch of all namespaces (the same
 * PartialObjectMetadata watch the drift cache uses), each change mapped to the deployment whose
 * namespace holds the object, and one debounced drift signal per deployment.
 *
 * Failover: `checkpoint` holds, per kind, the resourceVersion up to which every change has been
 * signalled (it advances only when nothing is queued or in flight). A new run started from it
 * resumes the watches there, so the API server replays what changed in between. A kind with no
 * resume point, or whose point the API server no longer has (410 Expired), is listed afresh and
 * every deployment it holds objects of gets one `resync` check, spread over time: after a gap the
 * watcher cannot tell what changed, and one check per deployment is what the safety net would do.
 */
export class ClusterWatch {
  private readonly kinds: KindState[];
  private readonly batcher: SignalBatcher;
  private readonly now: () => number;
  private wake?: () => void;
  private saved: WatchCheckpoint;
  private readonly counts = { signalled: 0, notRunning: 0, resyncs: 0 };
  private readonly watching = new Set<string>();

  constructor(
    private readonly deps: ClusterWatchDeps,
    start: WatchCheckpoint | undefined,
  ) {
    this.now = deps.now ?? Date.now;
    this.batcher = new SignalBatcher({ settleMs: deps.settleMs ?? 300, windowMs: deps.windowMs ?? 1000 });
    this.kinds = (deps.kinds ?? WATCHED_KINDS).map((k) => ({ ...k, key: kindKey(k), resourceVersion: start?.resourceVersions[kindKey(k)] ?? '', filter: new ChangeFilter() }));
    this.saved = { resourceVersions: { ...(start?.resourceVersions ?? {}) } };
  }

  /** Where a new run resumes: every change up to these resourceVersions was signalled. */
  get checkpoint(): WatchCheckpoint {
    return this.saved;
  }

  stats(): ClusterWatchStats {
    return { ...this.counts, kinds: this.kinds.map((k) => ({ kind: `${k.apiVersion}/${k.kind} (${k.selector})`, watching: this.watching.has(k.key), objects: k.filter.size })) };
  }

  /** Watches and signals until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.kinds.map((k) => this.watchKind(k, signal)), this.signalLoop(signal)]);
  }

  private async watchKind(k: KindState, signal: AbortSignal): Promise<void> {
    const what = `${k.kind} (${k.selector})`;
    let failures = 0;
    let denied = false;
    let announced = false;
    while (!signal.aborted) {
      try {
        // Asked first, so that a kind the worker's RBAC leaves out costs no forbidden request.
        if (!k.allowed && !(k.allowed = await this.deps.kube.mayListAndWatchEverywhere(k.apiVersion, k.kind))) {
          if (!denied)
            this.deps.logger.info(
              { kind: what },
              'cluster watcher: not watching this kind, which the worker may not list and watch in every namespace (the chart grants rbac.productResources); its drift is found by the safety-net check',
            );
          denied = true;
          await pause(this.deps.deniedRetryMs ?? 600_000, signal);
          continue;
        }
        if (!k.resourceVersion) await this.list(k);
        this.watching.add(k.key);
        if (failures > 0 || denied) this.deps.logger.info({ kind: what }, 'cluster watcher: watching again');
        else if (!announced) this.deps.logger.info({ kind: what, objects: k.filter.size }, 'cluster watcher: watching');
        announced = true;
        failures = 0;
        denied = false;
        const timeoutSeconds = this.deps.watchTimeoutSeconds ?? 300;
        const jittered = Math.round(timeoutSeconds * (1 + Math.random() / 2));
        await this.deps.kube.watchMetadata(
          k.apiVersion,
          k.kind,
          { labelSelector: k.selector, resourceVersion: k.resourceVersion, timeoutSeconds: jittered, idleTimeoutMs: (jittered + 60) * 1000, signal },
          (event) => this.onEvent(k, event),
        );
      } catch (err) {
        this.watching.delete(k.key);
        if (signal.aborted) return;
        const status = err instanceof KubeError ? err.status : undefined;
        if (status === 410) {
          this.deps.logger.info({ kind: what }, 'cluster watcher: resume point expired; listing again and checking every deployment it holds');
          k.resourceVersion = '';
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        if (status === 403 || status === 404) {
          if (!denied) this.deps.logger.info({ kind: what, error: message }, 'cluster watcher: cannot list and watch this kind; its drift is found by the safety-net check');
          denied = true;
          await pause(this.deps.deniedRetryMs ?? 600_000, signal);
          continue;
        }
        failures++;
        if (failures === 1) this.deps.logger.warn({ kind: what, error: message }, 'cluster watcher: watch failed; resuming');
        await pause(Math.min((this.deps.minBackoffMs ?? 1000) * 2 ** (failures - 1), this.deps.maxBackoffMs ?? 30_000), signal);
      }
    }
  }

  /** A fresh list: the watcher cannot tell what changed before it, so each deployment it holds gets one resync check. */
  private async list(k: KindState): Promise<void> {
    const list = await this.deps.kube.listAllMetadata(k.apiVersion, k.kind, { labelSelector: k.selector });
    const before = k.filter.namespaces();
    const namespaces = k.filter.replace(list.items);
    for (const ns of before) namespaces.add(ns);
    k.resourceVersion = list.resourceVersion;
    const queued = this.batcher.spread(namespaces, this.now(), this.deps.resyncPerSecond ?? 20);
    this.counts.resyncs += queued;
    if (queued) this.kick();
  }

  private onEvent(k: KindState, event: WatchEvent): void {
    if (event.type !== 'BOOKMARK') {
      const namespace = k.filter.changed(event.type as 'ADDED' | 'MODIFIED' | 'DELETED', event.object);
      if (namespace) {
        this.batcher.add(namespace, 'changed', this.now());
        this.kick();
      }
    }
    const rv = event.object?.metadata?.resourceVersion;
    if (rv) k.resourceVersion = rv;
  }

  private async signalLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Taken together (no await between): every change up to `resourceVersions` is in `due` or still queued.
      const resourceVersions = Object.fromEntries(this.kinds.filter((k) => k.resourceVersion).map((k) => [k.key, k.resourceVersion]));
      const due = this.batcher.take(this.now());
      const complete = this.batcher.pending === 0;
      const sent = due.length ? await this.send(due) : true;
      if (sent && complete) this.saved = { resourceVersions };
      const next = this.batcher.nextAt();
      await this.sleep(next === undefined ? 5_000 : Math.max(next - this.now(), 5), signal);
    }
  }

  /** Signals the due deployments of this installation; false (and queued again) when some could not be signalled. */
  private async send(due: DueSignal[]): Promise<boolean> {
    let live: Set<string>;
    try {
      live = new Set(await this.deps.liveUids(due.map((d) => d.uid)));
    } catch (err) {
      this.deps.logger.warn({ error: (err as Error).message, deployments: due.length }, 'cluster watcher: cannot read the deployments; signals wait');
      this.requeue(due);
      return false;
    }
    const failed: DueSignal[] = [];
    let error: string | undefined;
    await forEachLimit(
      due.filter((d) => live.has(d.uid)),
      16,
      async (d) => {
        try {
          if (await this.deps.signal(d.uid, d.reason)) this.counts.signalled++;
          else this.counts.notRunning++;
        } catch (err) {
          failed.push(d);
          error = (err as Error).message;
        }
      },
    );
    if (failed.length) {
      this.deps.logger.warn({ error, deployments: failed.length }, 'cluster watcher: signals failed; sending them again');
      this.requeue(failed);
      await new Promise((r) => setTimeout(r, 1000));
    }
    return failed.length === 0;
  }

  private requeue(due: DueSignal[]): void {
    for (const d of due) this.batcher.add(d.uid, d.reason, this.now());
  }

  private kick(): void {
    this.wake?.();
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}
