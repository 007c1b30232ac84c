/**
 * The deployment workflow's decision, apart from its effects (the idea of Flux helm-controller's
 * `actionForState`): given the workflow's memory and the workflow time, which step comes next.
 * `nextStep` is pure (no Temporal call, no I/O, no clock of its own); `observe`, the memory update
 * on a load, sits beside it so that both are unit-tested together. Workflow code imports this file.
 *
 * One round of the loop, and the stage at which each decision is taken:
 *
 *   receive ── accept each queued upgrade ► record the dropped ones ─┐
 *   load ───── load the desired state (or take the drift tick's) ◄───┘
 *   act ────── finish │ teardown │ apply │ settle the first phase (or suspended) │ nothing
 *   acted ──── continue as new │ another round (a signal came) │ assess health │ degrade or recover
 *              │ wait for a signal or a timer
 *   woken ──── drift tick (the drift timer fired, or the cluster watcher signalled) │ assess health
 *              (its timer fired) │ another round
 *   ticked ─── another round, keeping the tick's desired state unless a signal came meanwhile
 */
import type { DeploymentWorkflowState, DriftSignalReason, DroppedUpgrades, QueuedUpgrade, WorkflowPhase } from '../contract';

/** The fields of the loaded desired state that the decision reads (DesiredSummary has them all). */
export interface DesiredView {
  status: string;
  generation: number;
  observedGeneration: number;
  deleting: boolean;
  driftIntervalSeconds: number;
  failedRecheckSeconds?: number;
  /** Suspended by an operator: nothing is applied, drift is recorded but not corrected. */
  suspended?: boolean;
  /** Set when the worker assesses health: how long a ready deployment may stay unhealthy before it is degraded. */
  healthGraceSeconds?: number;
}

/** The workloads' health as the workflow remembers it (times are workflow time, ms). */
export interface HealthMemory {
  /** The applied generation it is about. */
  generation: number;
  /** `unknown`: the last assessment failed (nothing is decided on it). */
  status: 'healthy' | 'progressing' | 'unhealthy' | 'unknown';
  reason: string | null;
  /** When the current not-healthy streak began; null when healthy. */
  since: number | null;
  /** When it was last assessed. */
  at: number;
}

/** What the signals asked for and the workflow has not done yet. */
export interface Pending {
  reconcile: boolean;
  delete: boolean;
  /** A forced reconcile: apply even a generation that failed for good. */
  force: boolean;
  upgrades: QueuedUpgrade[];
  dropped: DroppedUpgrades;
  /** A drift check asked for by a drift signal (the cluster watcher) and not run yet. */
  drift?: DriftSignalReason | null;
}

/** The workflow's timers and its memory of the last failure (times are workflow time, ms). */
export interface Schedule {
  /** The generation whose last apply failed for good: not retried until it changes or is forced. */
  failedGeneration: number | null;
  /** When a failed apply or teardown is retried; null when failed for good. */
  retryAt: number | null;
  nextDriftAt: number | null;
  /** How often a failed-for-good deployment re-reads its desired state (from the worker's configuration). */
  recheckSeconds: number;
  /** The run saw the deployment suspended and has not applied since; a resume then applies at once. */
  suspended?: boolean;
  /**
   * Where in each drift interval this deployment's periodic check falls (0 ≤ slot < 1, from its
   * uid), so that deployments created together do not all check together. Absent: one interval
   * after the last check (the schedule before the cluster watcher).
   */
  driftSlot?: number;
  /** The last health assessment of the applied generation; reset by each apply. */
  health?: HealthMemory;
  /** A replayed history from before health assessments: this run assesses nothing. */
  healthOff?: boolean;
}

export type Stage = 'receive' | 'load' | 'act' | 'acted' | 'woken' | 'ticked' | 'deleted';

/** What a wait ends on, besides a signal. */
export type Wake = { kind: 'retry'; at: number } | { kind: 'recheck'; at: number } | { kind: 'drift'; at: number } | { kind: 'health'; at: number } | { kind: 'signal' };

/** Where the current round of the loop is, and what it has seen so far. */
export interface Round<D extends DesiredView = DesiredView> {
  stage: Stage;
  /** The desired state loaded this round (null: the deployment row is gone). */
  desired?: D | null;
  /** What the last drift tick loaded; undefined when it failed or was taken. */
  tickDesired?: D | null;
  /** How the last wait ended. */
  woken?: { signalled: boolean; wake: Wake };
}

/** The workflow's whole memory: what the query shows, the pending work, the timers and the round. */
export interface DeploymentMemory<D extends DesiredView = DesiredView> {
  view: DeploymentWorkflowState;
  pending: Pending;
  schedule: Schedule;
  round: Round<D>;
  /** The product the search attributes name (upserted when it changes). */
  productName: string | null;
}

export type Step =
  | { kind: 'accept-upgrade' }
  | { kind: 'record-dropped' }
  | { kind: 'load' }
  | { kind: 'take-tick-state' }
  | { kind: 'finish' }
  | { kind: 'teardown' }
  | { kind: 'apply' }
  | { kind: 'settle'; phase: WorkflowPhase }
  | { kind: 'assess-health' }
  | { kind: 'set-health'; phase: 'degraded' | 'ready' }
  | { kind: 'continue-as-new' }
  | { kind: 'again'; keepTickState: boolean }
  | { kind: 'wait'; wake: Wake; nextDriftAt: number }
  /** A drift check: on the safety-net timer, or (`trigger: 'watcher'`) on a drift signal. */
  | { kind: 'drift-tick'; nextDriftAt: number; trigger?: 'watcher' };

/** Continue-as-new well before Temporal's own suggestion, to keep histories short and replays cheap. */
export const MAX_HISTORY_EVENTS = 1500;
export const MAX_PENDING_UPGRADES = 20;
/** How many distinct template ids of dropped upgrade signals the drop event names. */
export const MAX_DROPPED_SAMPLE = 5;
/** A failed-for-good deployment re-reads its desired state this often, in case a signal was lost. */
export const FAILED_RECHECK_SECONDS = 900;

/** Backoff after the n-th consecutive failure: 15 s, 30 s, 1 min … capped at 10 min. */
export function retryDelayMs(failures: number): number {
  return Math.min(15_000 * 2 ** Math.max(0, failures - 1), 600_000);
}

export function hasPendingSignals(pending: Pending): boolean {
  return pending.reconcile || pending.delete || pending.upgrades.length > 0;
}

/**
 * The next step for this memory at workflow time `now`. `historyFull` says whether the history
 * is long enough to continue as new (read only after the round's action).
 */
export function nextStep(memory: DeploymentMemory, now: number, historyFull: boolean): Step {
  const { pending, round } = memory;
  switch (round.stage) {
    case 'receive':
      if (pending.upgrades.length) return { kind: 'accept-upgrade' };
      if (pending.dropped.count > 0) return { kind: 'record-dropped' };
      return loadStep(round);
    case 'load':
      return loadStep(round);
    case 'act':
      return action(memory, now) ?? afterAction(memory, now, historyFull);
    case 'acted':
      return afterAction(memory, now, historyFull);
    case 'woken':
      return afterWait(memory, now);
    case 'ticked':
      // A signal during the tick may have changed the row: load it again.
      return { kind: 'again', keepTickState: !hasPendingSignals(pending) };
    case 'deleted':
      return { kind: 'finish' };
  }
}

function loadStep(round: Round): Step {
  return round.tickDesired !== undefined ? { kind: 'take-tick-state' } : { kind: 'load' };
}

/**
 * Teardown, apply or the first phase; undefined when there is nothing to do. A suspension holds
 * back every apply (new generations, retries, forced reconciles) but never a delete: a deletion
 * must not wait forever. The first round after a resume applies whatever waited, and re-applies
 * the release so that the drift left alone while suspended is corrected at once.
 */
function action({ round, pending, schedule, view }: DeploymentMemory, now: number): Step | undefined {
  const desired = round.desired;
  if (!desired || desired.status === 'deleted') return { kind: 'finish' };
  if (desired.deleting) {
    const retryDue = schedule.retryAt === null || now >= schedule.retryAt;
    return retryDue || pending.delete ? { kind: 'teardown' } : undefined;
  }
  if (desired.suspended) return view.phase === 'suspended' ? undefined : { kind: 'settle', phase: 'suspended' };
  if (schedule.suspended) return { kind: 'apply' };
  const retryDue = schedule.retryAt !== null && now >= schedule.retryAt;
  const changed = desired.generation !== view.appliedGeneration && desired.generation !== schedule.failedGeneration;
  if (changed || pending.force || retryDue) return { kind: 'apply' };
  if (view.phase === 'loading') return { kind: 'settle', phase: desired.status === 'error' ? 'error' : 'ready' };
  return undefined;
}

function afterAction(memory: DeploymentMemory, now: number, historyFull: boolean): Step {
  if (historyFull) return { kind: 'continue-as-new' };
  if (hasPendingSignals(memory.pending)) return { kind: 'again', keepTickState: false };
  // A drift signal that came while the round ran (its own correction's echo, a change during an apply).
  if (watcherCheckDue(memory)) return watcherTick(memory, now);
  return healthStep(memory, now) ?? { kind: 'wait', ...waitFor(memory, now) };
}

/** The grace, when the health of this round's deployment is watched: applied, current, ready or degraded, neither suspended nor deleting. */
function healthGrace({ round, schedule, view }: DeploymentMemory): number | undefined {
  const desired = round.desired;
  if (!desired?.healthGraceSeconds || schedule.healthOff || desired.deleting || desired.suspended || desired.status === 'deleted') return undefined;
  if ((view.phase !== 'ready' && view.phase !== 'degraded') || desired.generation !== view.appliedGeneration) return undefined;
  return desired.healthGraceSeconds * 1000;
}

/**
 * Health after the action: assess a generation not yet assessed; degrade a ready deployment whose
 * workloads stayed unhealthy past the grace (at once when its row already says degraded: a fresh
 * run); bring a degraded one back to ready once healthy. Undefined when there is nothing to do.
 */
function healthStep(memory: DeploymentMemory, now: number): Step | undefined {
  const grace = healthGrace(memory);
  if (grace === undefined) return undefined;
  const { view, schedule } = memory;
  const desired = memory.round.desired!;
  const health = schedule.health;
  if (!health || health.generation !== view.appliedGeneration) return { kind: 'assess-health' };
  if (health.status === 'healthy') return view.phase === 'degraded' || desired.status === 'degraded' ? { kind: 'set-health', phase: 'ready' } : undefined;
  if (health.status === 'unknown' || health.since === null || view.phase === 'degraded') return undefined;
  if (desired.status === 'degraded' || now >= health.since + grace) return { kind: 'set-health', phase: 'degraded' };
  return undefined;
}

/**
 * When a watched health needs another look before the drift timer: a not-healthy ready deployment
 * when its grace ends; a degraded one, or one whose assessment failed, a grace after the last look.
 */
function healthWakeAt(memory: DeploymentMemory): number | undefined {
  const grace = healthGrace(memory);
  const health = memory.schedule.health;
  if (grace === undefined || !health || health.status === 'healthy') return undefined;
  if (memory.view.phase === 'ready' && health.since !== null && health.status !== 'unknown') return Math.max(health.since + grace, health.at + 1000);
  return health.at + grace;
}

/** What an assessment (or a failed one: null) changes in the memory; a not-healthy streak keeps its start. */
export function observeHealth(schedule: Schedule, generation: number, report: { status: 'healthy' | 'progressing' | 'unhealthy'; reason: string | null } | null, now: number): void {
  const previous = schedule.health?.generation === generation ? schedule.health : undefined;
  const streak = previous?.since ?? now;
  if (!report) {
    schedule.health = { generation, status: 'unknown', reason: previous?.reason ?? null, since: previous?.since ?? null, at: now };
    return;
  }
  schedule.health = { generation, status: report.status, reason: report.reason, since: report.status === 'healthy' ? null : streak, at: now };
}

/**
 * Drift checks run only on a healthy release. After a failure the workflow waits for the retry
 * timer (transient) or for a signal (failed for good), and then also re-reads the desired state on
 * a long timer in case the signal of a change was lost. A suspended deployment retries nothing:
 * it waits for a signal or its drift check (which records drift and reloads the row).
 */
function waitFor(memory: DeploymentMemory, now: number): { wake: Wake; nextDriftAt: number } {
  const { round, schedule } = memory;
  const desired = round.desired!;
  const nextDriftAt = schedule.nextDriftAt ?? nextDriftTime(schedule, now, desired.driftIntervalSeconds);
  const healthAt = healthWakeAt(memory);
  if (healthAt !== undefined && healthAt < nextDriftAt) return { wake: { kind: 'health', at: healthAt }, nextDriftAt };
  if (driftChecksRun(desired, schedule)) return { wake: { kind: 'drift', at: nextDriftAt }, nextDriftAt };
  if (schedule.retryAt !== null) return { wake: { kind: 'retry', at: schedule.retryAt }, nextDriftAt };
  return { wake: { kind: 'recheck', at: now + schedule.recheckSeconds * 1000 }, nextDriftAt };
}

function afterWait(memory: DeploymentMemory, now: number): Step {
  const { round, schedule } = memory;
  const woken = round.woken!;
  if (!woken.signalled && woken.wake.kind === 'health') return { kind: 'assess-health' };
  const driftDue = !woken.signalled && woken.wake.kind === 'drift' && schedule.nextDriftAt !== null && now >= schedule.nextDriftAt;
  if (driftDue) return { kind: 'drift-tick', nextDriftAt: nextDriftTime(schedule, now, round.desired!.driftIntervalSeconds) };
  if (watcherCheckDue(memory)) return watcherTick(memory, now);
  return { kind: 'again', keepTickState: false };
}

function isFailing(desired: DesiredView, schedule: Schedule): boolean {
  return desired.deleting || schedule.failedGeneration !== null;
}

/** Drift checks run on a healthy or suspended release, not on one failing or being deleted. */
function driftChecksRun(desired: DesiredView, schedule: Schedule): boolean {
  return (desired.suspended && !desired.deleting) || !isFailing(desired, schedule);
}

/** A drift signal waits, nothing else does, and drift checks run now. */
function watcherCheckDue({ pending, round, schedule }: DeploymentMemory): boolean {
  return Boolean(pending.drift) && !hasPendingSignals(pending) && Boolean(round.desired) && driftChecksRun(round.desired!, schedule);
}

/** A check on the watcher's signal leaves the safety-net timer where it is. */
function watcherTick({ round, schedule }: DeploymentMemory, now: number): Step {
  return { kind: 'drift-tick', nextDriftAt: schedule.nextDriftAt ?? nextDriftTime(schedule, now, round.desired!.driftIntervalSeconds), trigger: 'watcher' };
}

/** The next periodic drift check: at the deployment's slot when it has one, else one interval from now. */
export function nextDriftTime(schedule: Pick<Schedule, 'driftSlot'>, now: number, intervalSeconds: number): number {
  const interval = intervalSeconds * 1000;
  if (schedule.driftSlot === undefined) return now + interval;
  const offset = Math.floor(schedule.driftSlot * interval);
  // The latest slot at or before now, then one interval on: always in (now, now + interval].
  return Math.floor((now - offset) / interval) * interval + offset + interval;
}

/** A stable slot in [0, 1) from the deployment uid (FNV-1a): the same on every replay and every run. */
export function driftSlotOf(deploymentUid: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < deploymentUid.length; i++) {
    hash ^= deploymentUid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/**
 * What loading a desired state changes in the memory: the generations, the re-check interval,
 * whether the run has seen a suspension (cleared only by the next apply), and a delete signal
 * without a deleting row is dropped (Postgres decides, not the signal).
 */
export function observe(memory: DeploymentMemory, desired: DesiredView | null): void {
  memory.round = { stage: 'act', desired };
  if (!desired || desired.status === 'deleted') return;
  memory.view.desiredGeneration = desired.generation;
  if (desired.failedRecheckSeconds) memory.schedule.recheckSeconds = desired.failedRecheckSeconds;
  if (desired.suspended && !desired.deleting) memory.schedule.suspended = true;
  // A fresh run (first start, or restarted by the supervisor) trusts what Postgres says was applied.
  if (memory.view.appliedGeneration < 0) {
    memory.view.appliedGeneration = desired.status === 'ready' || desired.status === 'degraded' ? desired.observedGeneration : 0;
  }
  if (!desired.deleting) memory.pending.delete = false;
}

/** What the state query says the workflow waits for. */
export function describeWait(wake: Wake, iso: (ms: number) => string, suspended = false): string {
  if (suspended) return `a resume (suspended: changes wait, drift is recorded but not corrected; drift check at ${wake.kind === 'signal' ? 'the next signal' : iso(wake.at)})`;
  switch (wake.kind) {
    case 'retry':
      return `retry at ${iso(wake.at)}`;
    case 'recheck':
      return `a signal (a new generation or a forced reconcile) or the re-check at ${iso(wake.at)}`;
    case 'signal':
      return 'a signal (a new generation or a forced reconcile)';
    case 'drift':
      return `a signal or the drift check at ${iso(wake.at)}`;
    case 'health':
      return `a signal or the health check at ${iso(wake.at)}`;
  }
}
