/**
 * One long-lived workflow per deployment. It carries ids and generations only; activities
 * read values and chart coordinates from Postgres, the source of truth.
 *
 *   load desired state ─┬─ deleting ──► uninstall ► delete namespace (wait) ► mark deleted ► end
 *                       ├─ generation moved ──► ensure namespace ► helm upgrade --install ► record
 *                       └─ otherwise ──► wait for a signal, the retry timer or the drift timer
 *   drift timer ──► drift tick (local activity: load, check in-process, correct, record)
 *   any failure ──► record error, retry on a backoff timer (retryable), or at the next signal
 *                   or the long re-check timer (failed for good)
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { DeploymentActivities, DesiredSummary } from '../activities';
import {
  deleteSignal,
  DeploymentWorkflowInput,
  DeploymentWorkflowState,
  DroppedUpgrades,
  QueuedUpgrade,
  reconcileSignal,
  SEARCH_ATTRIBUTES,
  stateQuery,
  upgradeSignal,
  WorkflowPhase,
} from '../contract';
import { checkReconcileSignal, queuedUpgrade } from '../signal-validation';

/** Continue-as-new well before Temporal's own suggestion, to keep histories short and replays cheap. */
export const MAX_HISTORY_EVENTS = 1500;
export const MAX_PENDING_UPGRADES = 20;
/** How many distinct template ids of dropped upgrade signals the drop event names. */
const MAX_DROPPED_SAMPLE = 5;
/** A failed-for-good deployment re-reads its desired state this often, in case a signal was lost. */
export const FAILED_RECHECK_SECONDS = 900;

// Postgres writes retry until the database is back: losing an observation is worse than waiting.
const DB: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};
const CLUSTER: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
};
const HELM: ActivityOptions = {
  startToCloseTimeout: '20m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
};

const acts = proxyActivities<DeploymentActivities>(DB);

/**
 * Drift ticks run as a local activity: one workflow task per tick instead of three (plus two
 * activity tasks), and 6 history events instead of 17. A failed tick is only logged; the next
 * loop then loads the desired state with a regular activity.
 */
const DRIFT_TICK: LocalActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
};
/** Marks histories written since drift ticks became a local activity (older runs replay the activity path). */
export const DRIFT_TICK_PATCH = 'drift-tick-local-activity';
/** Marks histories whose failed-for-good waits have a re-check timer (older runs wait for a signal only). */
export const FAILED_RECHECK_PATCH = 'failed-recheck-timer';
/** Marks histories that record dropped upgrade signals as an event. */
export const DROPPED_UPGRADES_PATCH = 'record-dropped-upgrades';

/** Backoff after the n-th consecutive failure: 15 s, 30 s, 1 min … capped at 10 min. */
export function retryDelayMs(failures: number): number {
  return Math.min(15_000 * 2 ** Math.max(0, failures - 1), 600_000);
}

export async function deploymentWorkflow(input: DeploymentWorkflowInput): Promise<void> {
  const { deploymentId, deploymentUid } = input;
  const state: DeploymentWorkflowState = {
    deploymentId,
    deploymentUid,
    phase: 'loading',
    appliedGeneration: input.appliedGeneration ?? -1,
    desiredGeneration: 0,
    templateVersion: null,
    consecutiveFailures: input.consecutiveFailures ?? 0,
    lastError: null,
    waitingFor: null,
    nextDriftCheckAt: null,
    pendingUpgrades: 0,
    historyLength: 0,
  };
  const upgrades: QueuedUpgrade[] = [...(input.pendingUpgrades ?? [])];
  const dropped: DroppedUpgrades = { count: input.droppedUpgrades?.count ?? 0, templateIds: [...(input.droppedUpgrades?.templateIds ?? [])] };
  let reconcileRequested = true;
  let deleteRequested = input.pendingDelete ?? false;
  let forceApply = false;
  // The generation whose last apply failed: retried only when retryAt is due (transient failures),
  // or not at all until the desired state changes (bad values, missing chart) or a forced reconcile.
  let failedGeneration: number | null = null;
  let retryAt: number | null = null;
  let nextDriftAt: number | null = null;
  let productName: string | null = null;
  // From the worker's configuration, as the activity that loads the desired state reports it.
  let recheckSeconds = FAILED_RECHECK_SECONDS;
  // The desired state a drift tick loaded, used by the next loop instead of loading again.
  let preloaded: DesiredSummary | null | undefined;
  const local = proxyLocalActivities<DeploymentActivities>({ ...DRIFT_TICK, summary: `drift check ${deploymentUid}` });

  setHandler(reconcileSignal, (signal) => {
    reconcileRequested = true;
    if (checkReconcileSignal(signal).force) {
      forceApply = true;
      failedGeneration = null;
    }
  });
  setHandler(upgradeSignal, (signal) => {
    // Checked here (a raw payload never reaches an activity's input), then against Postgres by
    // acceptUpgrade, which records a rejection. Bounded, so a flood cannot grow state.
    const queued = queuedUpgrade(signal);
    if (upgrades.length < MAX_PENDING_UPGRADES) {
      upgrades.push(queued);
      return;
    }
    dropped.count += 1;
    if (!queued.rejected && dropped.templateIds.length < MAX_DROPPED_SAMPLE && !dropped.templateIds.includes(queued.templateId)) dropped.templateIds.push(queued.templateId);
  });
  setHandler(deleteSignal, () => {
    deleteRequested = true;
  });
  setHandler(stateQuery, () => ({ ...state, pendingUpgrades: upgrades.length, historyLength: workflowInfo().historyLength }));

  const setPhase = (phase: WorkflowPhase, desired?: DesiredSummary) => {
    const updates = [];
    if (phase !== state.phase) updates.push({ key: SEARCH_ATTRIBUTES.phase, value: phase });
    if (desired && desired.templateVersion !== state.templateVersion) updates.push({ key: SEARCH_ATTRIBUTES.templateVersion, value: desired.templateVersion });
    if (desired && desired.productName !== productName) {
      productName = desired.productName;
      updates.push({ key: SEARCH_ATTRIBUTES.product, value: desired.productName });
    }
    state.phase = phase;
    if (desired) state.templateVersion = desired.templateVersion;
    if (updates.length) upsertSearchAttributes(updates);
  };

  const run = <K extends keyof DeploymentActivities>(name: K, options: ActivityOptions, summary: string, ...args: Parameters<DeploymentActivities[K]>) => {
    setCurrentDetails(`running: ${summary}`);
    return (acts[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): Promise<Awaited<ReturnType<DeploymentActivities[K]>>> }).executeWithOptions(
      { ...options, summary },
      args,
    );
  };

  /** Records a failure on the deployment and schedules the retry; never rethrows (except cancellation). */
  const fail = async (err: unknown, desired: DesiredSummary, step: string) => {
    if (isCancellation(err)) throw err;
    const { message, retryable } = describeFailure(err, step);
    state.consecutiveFailures += 1;
    state.lastError = message;
    log.warn('deployment step failed', { deploymentUid, step, retryable, attempt: state.consecutiveFailures });
    const current = await run('recordFailure', DB, `record failure of ${deploymentUid}`, {
      deploymentId,
      generation: desired.generation,
      message,
      retryable,
      attempt: state.consecutiveFailures,
      deleting: desired.deleting,
    });
    if (!desired.deleting) setPhase('error', desired);
    // A non-retryable failure (bad values, missing chart) waits for the next change instead of storming.
    retryAt = retryable || desired.deleting ? Date.now() + retryDelayMs(state.consecutiveFailures) : null;
    failedGeneration = desired.deleting ? null : desired.generation;
    if (!current) reconcileRequested = true;
  };

  const reconcile = async (desired: DesiredSummary) => {
    setPhase(desired.appliedTemplateId && desired.observedGeneration > 0 ? 'upgrading' : 'provisioning', desired);
    try {
      await run('ensureNamespace', CLUSTER, `ensure namespace ${deploymentUid}`, { deploymentId });
      const applied = await run('applyRelease', HELM, `helm upgrade --install ${deploymentUid} (${desired.templateVersion})`, { deploymentId });
      const current = await run('recordApplied', DB, `record ${deploymentUid} ready at generation ${applied.generation}`, {
        deploymentId,
        generation: applied.generation,
        templateId: applied.templateId,
        templateVersion: applied.templateVersion,
        revision: applied.revision,
        unlocked: applied.unlocked,
      });
      state.appliedGeneration = applied.generation;
      state.consecutiveFailures = 0;
      state.lastError = null;
      retryAt = null;
      failedGeneration = null;
      nextDriftAt = null;
      setPhase('ready', desired);
      // The desired state moved on while helm ran: go round again at once.
      if (!current) reconcileRequested = true;
    } catch (err) {
      await fail(err, desired, 'apply');
    }
  };

  const teardown = async (desired: DesiredSummary): Promise<boolean> => {
    setPhase('deleting', desired);
    try {
      await run('uninstallRelease', CLUSTER, `helm uninstall ${deploymentUid}`, { deploymentId });
      await run('deleteNamespace', { ...CLUSTER, startToCloseTimeout: '15m' }, `delete namespace ${deploymentUid} and wait until gone`, { deploymentId });
      await run('markDeleted', DB, `mark ${deploymentUid} deleted`, { deploymentId, generation: desired.generation });
      setPhase('deleted', desired);
      return true;
    } catch (err) {
      await fail(err, desired, 'delete');
      return false;
    }
  };

  const driftCheck = async (desired: DesiredSummary) => {
    try {
      const res = await run('checkDrift', CLUSTER, `drift check ${deploymentUid}`, { deploymentId, generation: desired.generation });
      if (res.releaseMissing) forceApply = true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { message } = describeFailure(err, 'drift check');
      log.warn('drift check failed', { deploymentUid, message });
    }
  };

  /** Returns the desired state the tick loaded, or undefined when the tick failed. */
  const driftTick = async (desired: DesiredSummary): Promise<DesiredSummary | null | undefined> => {
    setCurrentDetails(`running: drift check ${deploymentUid}`);
    try {
      const res = await local.driftTick({ deploymentId, generation: desired.generation });
      if (res.drift?.releaseMissing) forceApply = true;
      return res.desired;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { message } = describeFailure(err, 'drift check');
      log.warn('drift check failed', { deploymentUid, message });
      return undefined;
    }
  };

  for (;;) {
    // A signal since the tick may have changed the row: load it again.
    if (upgrades.length || reconcileRequested || deleteRequested) preloaded = undefined;
    while (upgrades.length) {
      const signal = upgrades.shift()!;
      const outcome = await run('acceptUpgrade', DB, `validate upgrade of ${deploymentUid}`, {
        deploymentId,
        templateId: signal.templateId,
        requestedBy: signal.requestedBy,
        ...(signal.rejected ? { rejected: signal.rejected } : {}),
      });
      if (outcome.outcome === 'accepted') reconcileRequested = true;
    }
    if (dropped.count > 0 && patched(DROPPED_UPGRADES_PATCH)) {
      const { count, templateIds } = dropped;
      dropped.count = 0;
      dropped.templateIds = [];
      await run('recordDroppedUpgrades', DB, `record ${count} dropped upgrade signals of ${deploymentUid}`, { deploymentId, count, templateIds, limit: MAX_PENDING_UPGRADES });
    }

    reconcileRequested = false;
    const desired = preloaded !== undefined ? preloaded : await run('loadDesiredState', DB, `load desired state of ${deploymentUid}`, { deploymentId });
    preloaded = undefined;
    if (!desired || desired.status === 'deleted') {
      setPhase('deleted');
      return;
    }
    state.desiredGeneration = desired.generation;
    if (desired.failedRecheckSeconds) recheckSeconds = desired.failedRecheckSeconds;
    // A fresh run (first start, or restarted by the supervisor) trusts what Postgres says was applied.
    if (state.appliedGeneration < 0) {
      state.appliedGeneration = desired.status === 'ready' || desired.status === 'degraded' ? desired.observedGeneration : 0;
    }

    if (desired.deleting) {
      if (retryAt === null || Date.now() >= retryAt || deleteRequested) {
        deleteRequested = false;
        if (await teardown(desired)) return;
      }
    } else {
      // A delete signal without a deleted row is ignored: Postgres decides, not the signal.
      deleteRequested = false;
      const retryDue = retryAt !== null && Date.now() >= retryAt;
      const changed = desired.generation !== state.appliedGeneration && desired.generation !== failedGeneration;
      if (changed || forceApply || retryDue) {
        forceApply = false;
        retryAt = null;
        await reconcile(desired);
      } else if (state.phase === 'loading') {
        setPhase(desired.status === 'error' ? 'error' : 'ready', desired);
      }
    }

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.maxHistoryEvents ?? MAX_HISTORY_EVENTS)) {
      setCurrentDetails('continuing as new');
      await condition(allHandlersFinished);
      await continueAsNew<typeof deploymentWorkflow>({
        deploymentId,
        deploymentUid,
        appliedGeneration: state.appliedGeneration,
        consecutiveFailures: state.consecutiveFailures,
        pendingUpgrades: upgrades,
        pendingDelete: deleteRequested,
        ...(dropped.count ? { droppedUpgrades: dropped } : {}),
        maxHistoryEvents: input.maxHistoryEvents,
      });
    }
    if (reconcileRequested || deleteRequested || upgrades.length) continue;

    // Drift checks run only on a healthy release; after a failure the workflow waits for the
    // retry timer (transient) or for a signal (failed for good), and then also re-reads the
    // desired state on a long timer in case the signal of a change was lost.
    const intervalMs = desired.driftIntervalSeconds * 1000;
    const failing = desired.deleting || failedGeneration !== null;
    nextDriftAt ??= Date.now() + intervalMs;
    const recheckAt = failing && retryAt === null && patched(FAILED_RECHECK_PATCH) ? Date.now() + recheckSeconds * 1000 : null;
    const wakeAt = failing ? (retryAt ?? recheckAt ?? Infinity) : nextDriftAt;
    state.nextDriftCheckAt = failing ? null : new Date(nextDriftAt).toISOString();
    state.waitingFor =
      retryAt !== null && failing
        ? `retry at ${new Date(retryAt).toISOString()}`
        : failing
          ? `a signal (a new generation or a forced reconcile)${recheckAt !== null ? ` or the re-check at ${new Date(recheckAt).toISOString()}` : ''}`
          : `a signal or the drift check at ${state.nextDriftCheckAt}`;
    setCurrentDetails(`waiting for ${state.waitingFor} (phase ${state.phase}, generation ${state.appliedGeneration}/${desired.generation})`);
    const woken = () => reconcileRequested || deleteRequested || upgrades.length > 0;
    const signalled = wakeAt === Infinity ? (await condition(woken), true) : await condition(woken, Math.max(wakeAt - Date.now(), 1));
    state.waitingFor = null;
    if (signalled || failing) continue;

    if (Date.now() >= nextDriftAt) {
      nextDriftAt = Date.now() + intervalMs;
      if (patched(DRIFT_TICK_PATCH)) preloaded = await driftTick(desired);
      else await driftCheck(desired);
    }
  }
}

/** The message and retryability of an activity failure, for the deployment's lastError. */
function describeFailure(err: unknown, step: string): { message: string; retryable: boolean } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { message: cause.message, retryable: !cause.nonRetryable };
    if (cause instanceof TimeoutFailure) return { message: `${step}: timed out (${cause.timeoutType})`, retryable: true };
    return { message: `${step}: ${cause?.message ?? err.message}`, retryable: true };
  }
  return { message: `${step}: ${err instanceof Error ? err.message : String(err)}`, retryable: true };
}
