/**
 * One long-lived workflow per deployment. It carries ids and generations only; activities
 * read values and chart coordinates from Postgres, the source of truth.
 *
 *   load desired state ─┬─ deleting ──► uninstall ► delete namespace (wait) ► mark deleted ► end
 *                       ├─ suspended ──► phase suspended; wait (drift ticks record, never correct)
 *                       ├─ generation moved, or resumed ──► ensure namespace ► helm upgrade --install ► record
 *                       └─ otherwise ──► wait for a signal, the retry timer or the drift timer
 *   drift signal (cluster watcher) or drift timer (safety net) ──► drift tick (local activity: load, check in-process, correct, record, assess health)
 *   after an apply, and on a health timer ──► assess health (local activity); a ready deployment
 *                   unhealthy past the grace ──► degraded; healthy again ──► ready
 *   delete signal during an apply ──► cancel the apply, wait until its helm stopped ──► the teardown above
 *   any failure ──► record error, retry on a backoff timer (retryable), or at the next signal
 *                   or the long re-check timer (failed for good)
 *
 * Which step comes next is decided by `nextStep` (next-step.ts, pure); this file performs it.
 */
import { allHandlersFinished, condition, continueAsNew, isCancellation, log, patched, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DesiredSummary } from '../activities';
import { deleteSignal, DeploymentWorkflowInput, driftSignal, INITIAL_PHASE, reconcileSignal, stateQuery, upgradeSignal } from '../contract';
import { checkDriftSignal, checkReconcileSignal, queuedUpgrade } from '../signal-validation';
import { DeploymentSteps, describeFailure } from './deployment.steps';
import { deprecateDriftTickPatch } from './drift-tick-patch';
import {
  DeploymentMemory,
  describeWait,
  driftSlotOf,
  FAILED_RECHECK_SECONDS,
  hasPendingSignals,
  MAX_DROPPED_SAMPLE,
  MAX_HISTORY_EVENTS,
  MAX_PENDING_UPGRADES,
  nextStep,
  observe,
  observeHealth,
  Step,
} from './next-step';

export { MAX_HISTORY_EVENTS, MAX_PENDING_UPGRADES, FAILED_RECHECK_SECONDS, retryDelayMs } from './next-step';
export { DRIFT_TICK_PATCH } from './drift-tick-patch';
/**
 * Marks histories whose failed-for-good waits have a re-check timer. Kept as patched(): a run that
 * failed for good before it waits for a signal only, writes no event and never continues as new,
 * so its history replays only while the timer stays behind this patch.
 */
export const FAILED_RECHECK_PATCH = 'failed-recheck-timer';
/** Marks histories that assess the workloads' health (and may degrade). Older runs replay with health off. */
export const HEALTH_PATCH = 'workload-health';
/** Marks histories that record dropped upgrade signals as an event. Kept as patched(): older runs that dropped signals have no such activity in their history. */
export const DROPPED_UPGRADES_PATCH = 'record-dropped-upgrades';
/** Marks histories that hold the release when the deployment is suspended. Kept as patched(): older runs settled into suspension without that activity. */
export const HOLD_ON_SUSPEND_PATCH = 'hold-release-on-suspend';

export async function deploymentWorkflow(input: DeploymentWorkflowInput): Promise<void> {
  const run = new DeploymentRun(input);
  run.listen();
  for (;;) {
    const step = nextStep(run.memory, Date.now(), run.historyFull());
    if (step.kind === 'finish') return run.finish();
    await run.perform(step);
  }
}

/** The workflow's memory and the effects of each step (state in one object, short handlers). */
class DeploymentRun {
  readonly memory: DeploymentMemory<DesiredSummary>;
  private readonly steps: DeploymentSteps;

  constructor(private readonly input: DeploymentWorkflowInput) {
    this.memory = {
      view: {
        deploymentId: input.deploymentId,
        deploymentUid: input.deploymentUid,
        phase: INITIAL_PHASE,
        appliedGeneration: input.appliedGeneration ?? -1,
        desiredGeneration: 0,
        templateVersion: null,
        consecutiveFailures: input.consecutiveFailures ?? 0,
        lastError: null,
        waitingFor: null,
        nextDriftCheckAt: null,
        lastDriftCheck: input.lastDriftCheck ?? null,
        pendingUpgrades: 0,
        historyLength: 0,
      },
      pending: {
        reconcile: true,
        delete: input.pendingDelete ?? false,
        force: false,
        upgrades: [...(input.pendingUpgrades ?? [])],
        dropped: { count: input.droppedUpgrades?.count ?? 0, templateIds: [...(input.droppedUpgrades?.templateIds ?? [])] },
        drift: input.pendingDrift ?? null,
      },
      schedule: {
        failedGeneration: null,
        retryAt: null,
        nextDriftAt: null,
        recheckSeconds: FAILED_RECHECK_SECONDS,
        ...(input.suspended ? { suspended: true } : {}),
        // No patch needed: a drift timer at the slot is never later than one interval ahead (the
        // old schedule), so a recorded timer that fired finds the check due under either, and
        // Temporal does not compare timer durations on replay. The replay test holds both.
        driftSlot: driftSlotOf(input.deploymentUid),
      },
      round: { stage: 'receive' },
      productName: null,
    };
    this.steps = new DeploymentSteps(input, this.memory);
  }

  listen(): void {
    const { pending, schedule, view } = this.memory;
    setHandler(reconcileSignal, (signal) => {
      pending.reconcile = true;
      if (!checkReconcileSignal(signal).force) return;
      pending.force = true;
      schedule.failedGeneration = null;
    });
    // Checked here (a raw payload never reaches an activity's input), then against Postgres by
    // acceptUpgrade, which records a rejection. Bounded, so a flood cannot grow state.
    setHandler(upgradeSignal, (signal) => this.queue(queuedUpgrade(signal)));
    setHandler(deleteSignal, () => {
      pending.delete = true;
    });
    // Many signals before the check runs are one check; a change (read fresh) outranks a resync.
    setHandler(driftSignal, (signal) => {
      const reason = checkDriftSignal(signal);
      pending.drift = pending.drift === 'changed' ? 'changed' : reason;
    });
    setHandler(stateQuery, () => ({ ...view, pendingUpgrades: pending.upgrades.length, historyLength: workflowInfo().historyLength }));
  }

  private queue(upgrade: DeploymentMemory['pending']['upgrades'][number]): void {
    const { upgrades, dropped } = this.memory.pending;
    if (upgrades.length < MAX_PENDING_UPGRADES) {
      upgrades.push(upgrade);
      return;
    }
    dropped.count += 1;
    const sampled = upgrade.rejected || dropped.templateIds.length >= MAX_DROPPED_SAMPLE || dropped.templateIds.includes(upgrade.templateId);
    if (!sampled) dropped.templateIds.push(upgrade.templateId);
  }

  historyFull(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (this.input.maxHistoryEvents ?? MAX_HISTORY_EVENTS);
  }

  finish(): void {
    this.steps.setPhase('deleted');
  }

  async perform(step: Exclude<Step, { kind: 'finish' }>): Promise<void> {
    const { pending, schedule, round } = this.memory;
    switch (step.kind) {
      case 'accept-upgrade':
        if (await this.steps.acceptUpgrade(pending.upgrades.shift()!)) pending.reconcile = true;
        return;
      case 'record-dropped':
        if (patched(DROPPED_UPGRADES_PATCH)) await this.recordDropped();
        round.stage = 'load';
        return;
      case 'load':
        pending.reconcile = false;
        return observe(this.memory, await this.steps.loadDesiredState());
      case 'take-tick-state':
        pending.reconcile = false;
        return observe(this.memory, round.tickDesired!);
      case 'teardown':
        pending.delete = false;
        round.stage = (await this.steps.teardown(round.desired!)) ? 'deleted' : 'acted';
        return;
      case 'apply':
        pending.force = false;
        schedule.retryAt = null;
        schedule.suspended = false;
        await this.steps.reconcile(round.desired!);
        round.stage = 'acted';
        return;
      case 'settle':
        this.steps.setPhase(step.phase, round.desired!);
        round.stage = 'acted';
        if (step.phase === 'suspended' && patched(HOLD_ON_SUSPEND_PATCH)) await this.steps.holdRelease();
        return;
      case 'assess-health':
        round.stage = 'acted';
        if (!this.healthPatched()) return;
        return observeHealth(schedule, this.memory.view.appliedGeneration, await this.steps.assessHealth(this.memory.view.appliedGeneration), Date.now());
      case 'set-health':
        round.stage = 'acted';
        if (!this.healthPatched()) return;
        return this.steps.setHealth(step.phase, round.desired!);
      case 'continue-as-new':
        return this.continueAsNew();
      case 'again':
        this.memory.round = { stage: 'receive', tickDesired: step.keepTickState ? round.tickDesired : undefined };
        return;
      case 'wait':
        return this.wait(step);
      case 'drift-tick': {
        schedule.nextDriftAt = step.nextDriftAt;
        // A watched change is read from the API server: the worker's own watch cache may lag the watcher's.
        const fresh = pending.drift === 'changed';
        pending.drift = null;
        deprecateDriftTickPatch();
        const trigger = step.trigger ?? 'safety-net';
        this.memory.view.lastDriftCheck = { at: new Date(Date.now()).toISOString(), trigger };
        this.memory.round = { stage: 'ticked', tickDesired: await this.driftTick(round.desired!, trigger, fresh) };
        return;
      }
    }
  }

  /** False, and health off for the run, when a history from before health assessments is replayed. */
  private healthPatched(): boolean {
    if (patched(HEALTH_PATCH)) return true;
    this.memory.schedule.healthOff = true;
    return false;
  }

  private async recordDropped(): Promise<void> {
    const { dropped } = this.memory.pending;
    const { count, templateIds } = dropped;
    this.memory.pending.dropped = { count: 0, templateIds: [] };
    await this.steps.recordDroppedUpgrades(count, templateIds);
  }

  private async wait(step: Extract<Step, { kind: 'wait' }>): Promise<void> {
    const { view, schedule, round, pending } = this.memory;
    schedule.nextDriftAt = step.nextDriftAt;
    // Runs from before the re-check timer wait for a signal only.
    const wake = step.wake.kind === 'recheck' && !patched(FAILED_RECHECK_PATCH) ? { kind: 'signal' as const } : step.wake;
    const iso = (ms: number) => new Date(ms).toISOString();
    // A health look may come first; the drift timer is still set behind it.
    const driftTimerSet = wake.kind === 'drift' || wake.kind === 'health';
    view.nextDriftCheckAt = driftTimerSet ? iso(step.nextDriftAt) : null;
    view.waitingFor = describeWait(wake, iso, view.phase === 'suspended');
    const last = view.lastDriftCheck ? `; last drift check ${view.lastDriftCheck.at} (${view.lastDriftCheck.trigger})` : '';
    setCurrentDetails(`waiting for ${view.waitingFor} (phase ${view.phase}, generation ${view.appliedGeneration}/${round.desired!.generation}${last})`);
    // A drift signal ends only a wait that a drift check may follow (not a failed release's).
    const woken = () => hasPendingSignals(pending) || (driftTimerSet && Boolean(pending.drift));
    let signalled = true;
    if (wake.kind === 'signal') await condition(woken);
    else signalled = await condition(woken, Math.max(wake.at - Date.now(), 1));
    view.waitingFor = null;
    round.stage = 'woken';
    round.woken = { signalled, wake };
  }

  private async continueAsNew(): Promise<never> {
    const { view, pending } = this.memory;
    setCurrentDetails('continuing as new');
    await condition(allHandlersFinished);
    return continueAsNew<typeof deploymentWorkflow>({
      deploymentId: this.input.deploymentId,
      deploymentUid: this.input.deploymentUid,
      appliedGeneration: view.appliedGeneration,
      consecutiveFailures: view.consecutiveFailures,
      pendingUpgrades: pending.upgrades,
      pendingDelete: pending.delete,
      ...(pending.dropped.count ? { droppedUpgrades: pending.dropped } : {}),
      ...(this.memory.schedule.suspended ? { suspended: true } : {}),
      ...(view.lastDriftCheck ? { lastDriftCheck: view.lastDriftCheck } : {}),
      ...(pending.drift ? { pendingDrift: pending.drift } : {}),
      maxHistoryEvents: this.input.maxHistoryEvents,
    });
  }

  /** Returns the desired state the tick loaded, or undefined when the tick failed. */
  private async driftTick(desired: DesiredSummary, trigger: string, fresh: boolean): Promise<DesiredSummary | null | undefined> {
    try {
      const res = await this.steps.localDriftTick(desired, trigger, fresh);
      if (res.drift?.releaseMissing) this.memory.pending.force = true;
      if (res.health) observeHealth(this.memory.schedule, desired.generation, res.health, Date.now());
      return res.desired;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { message } = describeFailure(err, 'drift check');
      log.warn('drift check failed', { deploymentUid: this.input.deploymentUid, message });
      return undefined;
    }
  }
}
