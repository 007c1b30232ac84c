import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ClusterWatcherInput, WatchCheckpoint } from '../contract';
import { ClusterWatch, ClusterWatchDeps } from './cluster-watch';

export interface WatcherActivityDeps extends ClusterWatchDeps {
  /** Aborted when this worker shuts down: the watch then fails at once, and Temporal runs it on another worker. */
  stopping?: AbortSignal;
  /** One attempt watches this long, then returns its checkpoint (the workflow starts the next): default 1 h. */
  runForMs?: number;
  heartbeatMs?: number;
}

const MAX_KINDS = 100;

/** A checkpoint from input or heartbeat details, kept only if it has the expected shape (anyone may start the workflow). */
export function checkpointOf(raw: unknown): WatchCheckpoint | undefined {
  const versions = (raw as { resourceVersions?: unknown } | null | undefined)?.resourceVersions;
  if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) return undefined;
  const entries = Object.entries(versions).filter(([k, v]) => k.length <= 300 && typeof v === 'string' && /^[0-9A-Za-z._-]{1,64}$/.test(v));
  return entries.length && entries.length <= MAX_KINDS ? { resourceVersions: Object.fromEntries(entries) } : undefined;
}

export function createWatcherActivities({ stopping, runForMs = 3_600_000, heartbeatMs = 2_000, ...deps }: WatcherActivityDeps) {
  return {
    /**
     * The cluster watcher (a long-running, heartbeating activity of the singleton watcher
     * workflow): watches release objects and release Secrets and signals the owning deployments'
     * workflows. Its heartbeat carries the checkpoint, so the attempt Temporal starts on another
     * worker after this one dies resumes where it stood.
     */
    async watchCluster(input: ClusterWatcherInput = {}): Promise<WatchCheckpoint> {
      const ctx = Context.current();
      const start = checkpointOf(ctx.info.heartbeatDetails) ?? checkpointOf(input.checkpoint);
      const watch = new ClusterWatch(deps, start);
      const stop = new AbortController();
      const onCancel = () => stop.abort();
      ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
      stopping?.addEventListener('abort', onCancel, { once: true });
      const rotate = setTimeout(onCancel, runForMs);
      const beat = setInterval(() => ctx.heartbeat(watch.checkpoint), heartbeatMs);
      ctx.heartbeat(watch.checkpoint);
      deps.logger.info({ attempt: ctx.info.attempt, resumedKinds: start ? Object.keys(start.resourceVersions).length : 0 }, 'cluster watcher: started');
      try {
        await watch.run(stop.signal);
      } finally {
        clearTimeout(rotate);
        clearInterval(beat);
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
        stopping?.removeEventListener('abort', onCancel);
      }
      ctx.heartbeat(watch.checkpoint);
      deps.logger.info({ ...watch.stats(), kinds: undefined }, 'cluster watcher: stopped');
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      if (stopping?.aborted) throw ApplicationFailure.retryable('this worker is shutting down; the cluster watcher moves to another worker', 'WorkerStopping');
      return watch.checkpoint;
    },
  };
}

export type WatcherActivities = ReturnType<typeof createWatcherActivities>;
