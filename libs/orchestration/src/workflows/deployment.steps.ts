/**
 * The effects of the deployment workflow's steps: each one a named activity with a summary, and
 * what its outcome changes in the workflow's memory. Workflow code: no Node API, no I/O.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { DeploymentActivities, DesiredSummary } from '../activities';
import { DeploymentWorkflowInput, QueuedUpgrade, SEARCH_ATTRIBUTES, WorkflowPhase } from '../contract';
import { DeploymentMemory, MAX_PENDING_UPGRADES, retryDelayMs } from './next-step';
import { BOOKKEEPING, CLUSTER_STEP, RELEASE_STEP } from './task-priority';

// Postgres writes retry until the database is back: losing an observation is worse than waiting.
const DB: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  priority: BOOKKEEPING,
};
const CLUSTER: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
  priority: CLUSTER_STEP,
};
const HELM: ActivityOptions = {
  startToCloseTimeout: '20m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
  priority: RELEASE_STEP,
};
/**
 * Drift ticks run as a local activity: one workflow task per tick instead of three (plus two
 * activity tasks), and 6 history events instead of 17. A failed tick is only logged; the next
 * loop then loads the desired state with a regular activity.
 */
const DRIFT_TICK: LocalActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
};

/** Health assessments run as local activities too (a few list requests); a failed one leaves the health unknown. */
const HEALTH_CHECK: LocalActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
};

const acts = proxyActivities<DeploymentActivities>(DB);

/**
 * Marks histories in which a delete signal interrupts an apply in flight (the activity is
 * cancelled, and the teardown starts once its helm process is gone). Kept as patched(): older
 * runs scheduled their applies outside a cancellation scope.
 */
export const DELETE_INTERRUPTS_APPLY_PATCH = 'delete-interrupts-apply';

type Result<K extends keyof DeploymentActivities> = Awaited<ReturnType<DeploymentActivities[K]>>;

export class DeploymentSteps {
  private readonly local: ReturnType<typeof proxyLocalActivities<DeploymentActivities>>;
  private readonly localHealth: ReturnType<typeof proxyLocalActivities<DeploymentActivities>>;
  private readonly deploymentId: string;
  private readonly uid: string;

  constructor(
    input: DeploymentWorkflowInput,
    private readonly memory: DeploymentMemory<DesiredSummary>,
  ) {
    this.deploymentId = input.deploymentId;
    this.uid = input.deploymentUid;
    this.local = proxyLocalActivities<DeploymentActivities>({ ...DRIFT_TICK, summary: `drift check ${this.uid}` });
    this.localHealth = proxyLocalActivities<DeploymentActivities>({ ...HEALTH_CHECK, summary: `health check ${this.uid}` });
  }

  /** Upserts the search attributes that changed. */
  setPhase(phase: WorkflowPhase, desired?: DesiredSummary): void {
    const { view } = this.memory;
    const updates = [];
    if (phase !== view.phase) updates.push({ key: SEARCH_ATTRIBUTES.phase, value: phase });
    if (desired && desired.templateVersion !== view.templateVersion) updates.push({ key: SEARCH_ATTRIBUTES.templateVersion, value: desired.templateVersion });
    if (desired && desired.productName !== this.memory.productName) {
      this.memory.productName = desired.productName;
      updates.push({ key: SEARCH_ATTRIBUTES.product, value: desired.productName });
    }
    view.phase = phase;
    if (desired) view.templateVersion = desired.templateVersion;
    if (updates.length) upsertSearchAttributes(updates);
  }

  /** Call-site options of a step's activity, named in the Web UI and in the workflow's current details. */
  private step(options: ActivityOptions, summary: string): ActivityOptions {
    setCurrentDetails(`running: ${summary}`);
    return { ...options, summary };
  }

  /**
   * Holds the release while the deployment is suspended (Flux's helm-controller stops its own
   * reconciles; helm holds nothing). A failure is logged: the suspension stands, and drift ticks
   * still record and leave alone what they find.
   */
  async holdRelease(): Promise<void> {
    try {
      await acts.holdRelease.executeWithOptions(this.step(CLUSTER, `hold ${this.uid}'s release while suspended`), [{ deploymentId: this.deploymentId }]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not hold the release of a suspended deployment', { deploymentUid: this.uid, error: (err as Error).message });
    }
  }

  /** Whether the upgrade was accepted (a rejection is recorded by the activity). */
  async acceptUpgrade(upgrade: QueuedUpgrade): Promise<boolean> {
    const outcome = await acts.acceptUpgrade.executeWithOptions(this.step(DB, `validate upgrade of ${this.uid}`), [
      {
        deploymentId: this.deploymentId,
        templateId: upgrade.templateId,
        requestedBy: upgrade.requestedBy,
        ...(upgrade.rejected ? { rejected: upgrade.rejected } : {}),
      },
    ]);
    return outcome.outcome === 'accepted';
  }

  async recordDroppedUpgrades(count: number, templateIds: string[]): Promise<void> {
    await acts.recordDroppedUpgrades.executeWithOptions(this.step(DB, `record ${count} dropped upgrade signals of ${this.uid}`), [
      {
        deploymentId: this.deploymentId,
        count,
        templateIds,
        limit: MAX_PENDING_UPGRADES,
      },
    ]);
  }

  loadDesiredState(): Promise<DesiredSummary | null> {
    return acts.loadDesiredState.executeWithOptions(this.step(DB, `load desired state of ${this.uid}`), [{ deploymentId: this.deploymentId }]);
  }

  /** ensure namespace ► helm upgrade --install ► record; a failure is recorded, never rethrown. */
  async reconcile(desired: DesiredSummary): Promise<void> {
    const { view, schedule, pending } = this.memory;
    this.setPhase(desired.appliedTemplateId && desired.observedGeneration > 0 ? 'upgrading' : 'provisioning', desired);
    try {
      const deploymentId = this.deploymentId;
      await acts.ensureNamespace.executeWithOptions(this.step(CLUSTER, `ensure namespace ${this.uid}`), [{ deploymentId }]);
      const applied = await this.applyRelease(desired);
      if (applied === 'interrupted') {
        log.info('apply interrupted by a delete', { deploymentUid: this.uid });
        return;
      }
      const current = await acts.recordApplied.executeWithOptions(this.step(DB, `record ${this.uid} ready at generation ${applied.generation}`), [
        {
          deploymentId,
          generation: applied.generation,
          templateId: applied.templateId,
          templateVersion: applied.templateVersion,
          revision: applied.revision,
          unlocked: applied.unlocked,
        },
      ]);
      view.appliedGeneration = applied.generation;
      view.consecutiveFailures = 0;
      view.lastError = null;
      schedule.retryAt = null;
      schedule.failedGeneration = null;
      schedule.nextDriftAt = null;
      schedule.health = undefined;
      this.setPhase('ready', desired);
      // The desired state moved on while helm ran: go round again at once.
      if (!current) pending.reconcile = true;
    } catch (err) {
      await this.fail(err, desired, 'apply');
    }
  }

  /**
   * The apply activity; 'interrupted' when a delete signal came while it ran. A deletion must not
   * wait for an install that cannot finish (pods no node takes, an image that never pulls) to use
   * up its attempts (3 × the helm timeout): the delete cancels the activity, and waits until the
   * activity has stopped its helm process (WAIT_CANCELLATION_COMPLETED), so the uninstall that
   * follows never races a dying helm. The next round then loads the deleting row and tears down.
   */
  private async applyRelease(desired: DesiredSummary): Promise<Result<'applyRelease'> | 'interrupted'> {
    const options = this.step(HELM, `helm upgrade --install ${this.uid} (${desired.templateVersion})`);
    const input = [{ deploymentId: this.deploymentId }] as const;
    if (!patched(DELETE_INTERRUPTS_APPLY_PATCH)) return acts.applyRelease.executeWithOptions(options, [...input]);
    const { pending } = this.memory;
    const scope = new CancellationScope();
    const applying = scope.run(() => acts.applyRelease.executeWithOptions({ ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }, [...input]));
    let settled = false;
    let interrupted = false;
    void condition(() => settled || pending.delete).then(() => {
      if (settled) return;
      interrupted = true;
      setCurrentDetails(`stopping the apply of ${this.uid}: a delete was requested`);
      scope.cancel();
    });
    try {
      return await applying;
    } catch (err) {
      if (interrupted && isCancellation(err)) return 'interrupted';
      throw err;
    } finally {
      settled = true;
    }
  }

  /** uninstall ► delete namespace (wait) ► mark deleted; whether the deployment is gone. */
  async teardown(desired: DesiredSummary): Promise<boolean> {
    const deploymentId = this.deploymentId;
    this.setPhase('deleting', desired);
    try {
      await acts.uninstallRelease.executeWithOptions(this.step(CLUSTER, `helm uninstall ${this.uid}`), [{ deploymentId }]);
      await acts.deleteNamespace.executeWithOptions(this.step({ ...CLUSTER, startToCloseTimeout: '15m' }, `delete namespace ${this.uid} and wait until gone`), [{ deploymentId }]);
      await acts.markDeleted.executeWithOptions(this.step(DB, `mark ${this.uid} deleted`), [{ deploymentId, generation: desired.generation }]);
      this.setPhase('deleted', desired);
      return true;
    } catch (err) {
      await this.fail(err, desired, 'delete');
      return false;
    }
  }

  /** The drift tick as a local activity; its failure is the caller's to log. */
  localDriftTick(desired: DesiredSummary, trigger = 'safety-net', fresh = false): Promise<Result<'driftTick'>> {
    setCurrentDetails(`running: drift check ${this.uid} (${trigger})`);
    return this.local.driftTick({ deploymentId: this.deploymentId, generation: desired.generation, ...(fresh ? { fresh } : {}) });
  }

  /** The workloads' health at the applied generation; null when it could not be read. */
  async assessHealth(generation: number): Promise<Result<'assessHealth'> | null> {
    setCurrentDetails(`running: health check ${this.uid}`);
    try {
      return await this.localHealth.assessHealth({ deploymentId: this.deploymentId, deploymentUid: this.uid, generation });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('health check failed', { deploymentUid: this.uid, message: describeFailure(err, 'health check').message });
      return null;
    }
  }

  /** Degraded (unhealthy past the grace) or ready again: the row and an event (unless the row already says so), then the phase. */
  async setHealth(phase: 'degraded' | 'ready', desired: DesiredSummary): Promise<void> {
    const { view, schedule, pending } = this.memory;
    if (desired.status !== phase) {
      const written = await acts.recordHealthChange.executeWithOptions(this.step(DB, `record ${this.uid} ${phase}`), [
        {
          deploymentId: this.deploymentId,
          generation: view.appliedGeneration,
          phase,
          reason: schedule.health?.reason ?? null,
          product: desired.productName,
          graceSeconds: desired.healthGraceSeconds ?? 0,
        },
      ]);
      // The desired state moved on: go round again, the next apply resets the health.
      if (!written) {
        pending.reconcile = true;
        return;
      }
      desired.status = phase;
    }
    this.setPhase(phase, desired);
  }

  /** Records a failure on the deployment and schedules the retry; never rethrows (except cancellation). */
  private async fail(err: unknown, desired: DesiredSummary, step: string): Promise<void> {
    if (isCancellation(err)) throw err;
    const { view, schedule, pending } = this.memory;
    const { message, retryable } = describeFailure(err, step);
    view.consecutiveFailures += 1;
    view.lastError = message;
    log.warn('deployment step failed', { deploymentUid: this.uid, step, retryable, attempt: view.consecutiveFailures });
    const current = await acts.recordFailure.executeWithOptions(this.step(DB, `record failure of ${this.uid}`), [
      {
        deploymentId: this.deploymentId,
        generation: desired.generation,
        message,
        retryable,
        attempt: view.consecutiveFailures,
        deleting: desired.deleting,
      },
    ]);
    if (!desired.deleting) this.setPhase('error', desired);
    // A non-retryable failure (bad values, missing chart) waits for the next change instead of storming.
    schedule.retryAt = retryable || desired.deleting ? Date.now() + retryDelayMs(view.consecutiveFailures) : null;
    schedule.failedGeneration = desired.deleting ? null : desired.generation;
    if (!current) pending.reconcile = true;
  }
}

/** The message and retryability of an activity failure, for the deployment's lastError. */
export function describeFailure(err: unknown, step: string): { message: string; retryable: boolean } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { message: cause.message, retryable: !cause.nonRetryable };
    if (cause instanceof TimeoutFailure) return { message: `${step}: timed out (${cause.timeoutType})`, retryable: true };
    return { message: `${step}: ${cause?.message ?? err.message}`, retryable: true };
  }
  return { message: `${step}: ${err instanceof Error ? err.message : String(err)}`, retryable: true };
}
