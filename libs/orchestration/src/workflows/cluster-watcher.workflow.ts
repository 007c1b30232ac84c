/**
 * The cluster watcher: one per task queue (workflow id `cluster-watcher-<task queue>`, started by
 * every worker at boot; all but the first start find it running). Its one activity at a time
 * watches release objects and release Secrets and signals the deployments whose objects changed
 * (see libs/orchestration/src/watcher). It heartbeats: when its worker dies, Temporal runs the
 * next attempt on another worker within the heartbeat timeout, resuming from the last heartbeat's
 * checkpoint. An attempt returns after an hour with its checkpoint, and the next one starts from
 * it; after a day of them the workflow continues as new, so its history stays short.
 */
import { ActivityFailure, continueAsNew, isCancellation, log, proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { ClusterWatcherInput, WatchCheckpoint } from '../contract';
import type { WatcherActivities } from '../watcher/cluster-watcher.activities';
import { BOOKKEEPING } from './task-priority';

const HEARTBEAT_TIMEOUT = '10s';
const ROUNDS_PER_RUN = 24;

const { watchCluster } = proxyActivities<WatcherActivities>({
  // An attempt returns after an hour; this only bounds one that hangs without failing its heartbeat.
  startToCloseTimeout: '2h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  // No attempt limit: the watcher must always run somewhere.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
  summary: 'watch release objects and signal the deployments whose objects changed',
  priority: BOOKKEEPING,
});

export async function clusterWatcherWorkflow(input: ClusterWatcherInput = {}): Promise<void> {
  let checkpoint: WatchCheckpoint | undefined = input.checkpoint;
  for (let round = 1; round <= ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
    setCurrentDetails(
      `watching release objects and release Secrets (round ${round} of ${ROUNDS_PER_RUN}); a change signals its deployment's workflow (signal "drift"), which checks and corrects at once. The activity's worker is in Pending Activities; heartbeat timeout ${HEARTBEAT_TIMEOUT}.`,
    );
    try {
      checkpoint = await watchCluster({ ...(checkpoint ? { checkpoint } : {}) });
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      // Failed for good (not expected: every error is retried): start again from a fresh list.
      log.warn('cluster watcher activity failed; starting again', { message: err.cause?.message ?? err.message });
      checkpoint = undefined;
      await sleep('10s');
    }
  }
  setCurrentDetails('continuing as new');
  return continueAsNew<typeof clusterWatcherWorkflow>({ ...(checkpoint ? { checkpoint } : {}) });
}
