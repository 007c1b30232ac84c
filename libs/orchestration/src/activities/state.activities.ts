import { DeploymentsService, DeploymentStateService, DesiredState, UpgradeOutcome } from '../../../domain/src';
import { DeploymentStatus } from '../../../persistence/src';
import { checkUpgradeSignal, isPrintable, MAX_REQUESTED_BY_LENGTH, SIGNAL_ACTOR } from '../signal-validation';
import { classified } from './activity-errors';
import { DeploymentMetrics, reportMetric } from './metrics.port';

export interface StateActivityDeps {
  state: DeploymentStateService;
  deployments: DeploymentsService;
  driftIntervalSeconds: number;
  /** How often a failed-for-good workflow re-reads its desired state (the workflow's default when unset). */
  failedRecheckSeconds?: number;
  /** How long a ready deployment may stay unhealthy before it is degraded; 0 or unset: no health assessment. */
  healthGraceSeconds?: number;
  metrics: DeploymentMetrics;
  /** Injected so durations are testable; defaults to the system clock. */
  now?: () => Date;
}

/** What the workflow keeps of the desired state: ids, generations, versions. No values. */
export interface DesiredSummary {
  deploymentId: string;
  deploymentUid: string;
  userId: string;
  productName: string;
  status: DeploymentStatus;
  generation: number;
  observedGeneration: number;
  deleting: boolean;
  /** Suspended by an operator. Absent in histories written before suspension (and when false). */
  suspended?: boolean;
  templateId: string;
  templateVersion: string;
  appliedTemplateId: string | null;
  driftIntervalSeconds: number;
  /** Absent in histories written before the re-check timer. */
  failedRecheckSeconds?: number;
  /** Set when the worker assesses health: a ready deployment unhealthy for this long is degraded. Absent in histories written before. */
  healthGraceSeconds?: number;
}

/** The workflow's view of a loaded deployment. */
export function summarize(d: DesiredState, driftIntervalSeconds: number, failedRecheckSeconds?: number, healthGraceSeconds?: number): DesiredSummary {
  return {
    deploymentId: d.deploymentId,
    deploymentUid: d.deploymentUid,
    userId: d.userId,
    productName: d.productName,
    status: d.status,
    generation: d.generation,
    observedGeneration: d.observedGeneration,
    deleting: d.deleting,
    // Only when set, so the summaries of deployments never suspended stay as they were.
    ...(d.suspended ? { suspended: true } : {}),
    templateId: d.template.id,
    templateVersion: d.template.version,
    appliedTemplateId: d.appliedTemplateId,
    driftIntervalSeconds,
    ...(failedRecheckSeconds ? { failedRecheckSeconds } : {}),
    ...(healthGraceSeconds ? { healthGraceSeconds } : {}),
  };
}

/** The deployment, or null when its row no longer exists. */
export async function loadOrNull(state: Pick<DeploymentStateService, 'load'>, deploymentId: string): Promise<DesiredState | null> {
  return state.load(deploymentId).catch((err) => {
    if ((err as { code?: string }).code === 'NotFound') return null;
    throw err;
  });
}

/** Reasons come from the workflow's own checks; bounded and printable all the same. */
function boundedReason(reason: unknown): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
  const text = typeof reason === 'string' ? reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 300) : '';
  return text || 'the upgrade signal is malformed';
}

export function createStateActivities({ state, deployments, driftIntervalSeconds, failedRecheckSeconds, healthGraceSeconds, metrics, now = () => new Date() }: StateActivityDeps) {
  /** An upgrade-rejected event at the deployment's current generation; nothing when the row is gone. */
  const recordRejected = async (deploymentId: string, actor: string, message: string, data: Record<string, unknown>) => {
    const d = await loadOrNull(state, deploymentId);
    if (d) await state.appendEvent({ deploymentId: d.deploymentId, generation: d.generation, type: 'upgrade-rejected', actor, message, data });
  };

  return {
    /** Null when the deployment row no longer exists: the workflow then simply ends. */
    async loadDesiredState(input: { deploymentId: string }): Promise<DesiredSummary | null> {
      return classified('load desired state', async () => {
        const d = await loadOrNull(state, input.deploymentId);
        return d ? summarize(d, driftIntervalSeconds, failedRecheckSeconds, healthGraceSeconds) : null;
      });
    },

    /**
     * Validates and persists an upgrade signal with the API's rules; a rejection is recorded, not
     * thrown (a malformed signal never heals by retrying). `rejected` is the workflow's own verdict
     * on the raw payload; older histories queue raw payloads, so they are checked again here.
     */
    async acceptUpgrade(input: { deploymentId: string; templateId: unknown; requestedBy?: unknown; rejected?: unknown }): Promise<UpgradeOutcome> {
      return classified('accept upgrade', async () => {
        const checked =
          input.rejected !== undefined
            ? { ok: false as const, reason: boundedReason(input.rejected), requestedBy: isPrintable(input.requestedBy, MAX_REQUESTED_BY_LENGTH) ? input.requestedBy : undefined }
            : checkUpgradeSignal(input.requestedBy === undefined ? { templateId: input.templateId } : { templateId: input.templateId, requestedBy: input.requestedBy });
        if (!checked.ok) {
          await recordRejected(input.deploymentId, checked.requestedBy ?? SIGNAL_ACTOR, `upgrade rejected: ${checked.reason}`, { reason: checked.reason });
          return { outcome: 'rejected', reason: checked.reason };
        }
        return deployments.acceptUpgradeSignal(input.deploymentId, checked.signal.templateId, checked.signal.requestedBy ?? SIGNAL_ACTOR);
      });
    },

    /** A full queue of upgrade signals dropped some: one event says how many, and names a few of their templates. */
    async recordDroppedUpgrades(input: { deploymentId: string; count: number; templateIds: unknown[]; limit: number }): Promise<void> {
      return classified('record dropped upgrades', async () => {
        const count = Number.isSafeInteger(input.count) && input.count > 0 ? input.count : 0;
        if (!count) return;
        const templateIds = (Array.isArray(input.templateIds) ? input.templateIds : []).filter((t) => checkUpgradeSignal({ templateId: t }).ok).slice(0, 5) as string[];
        const reason = `more than ${input.limit} upgrade signals were waiting`;
        await recordRejected(input.deploymentId, SIGNAL_ACTOR, `${count} upgrade signal(s) dropped: ${reason}`, { reason, dropped: count, templateIds });
      });
    },

    /**
     * Guarded by generation; false when the desired state moved on while the release was applied.
     * The first time a generation becomes ready, the time since its request goes to the metrics.
     */
    async recordApplied(input: { deploymentId: string; generation: number; templateId: string; templateVersion: string; revision: number; unlocked?: boolean }): Promise<boolean> {
      return classified('record applied state', async () => {
        // Read before writing: once observedGeneration moves, the pending request is no longer pending.
        const before = await state.load(input.deploymentId);
        const request = before.observedGeneration < input.generation ? await state.pendingRequest(input.deploymentId, before.observedGeneration) : undefined;
        const written = await state.recordObserved(input.deploymentId, input.generation, {
          status: 'ready',
          observedGeneration: input.generation,
          appliedTemplateId: input.templateId,
          lastError: null,
          lastReconcileAt: new Date(),
        });
        await state.appendEvent({
          deploymentId: input.deploymentId,
          generation: input.generation,
          type: 'applied',
          actor: 'workflow',
          message: `release revision ${input.revision} with template ${input.templateVersion} is ready`,
          data: { revision: input.revision, templateId: input.templateId, templateVersion: input.templateVersion, current: written },
        });
        if (written && request) {
          const seconds = (now().getTime() - request.at.getTime()) / 1000;
          reportMetric(() => metrics.requestReady({ kind: request.kind, product: before.productName, seconds }));
        }
        return written;
      });
    },

    async recordFailure(input: { deploymentId: string; generation: number; message: string; retryable: boolean; attempt: number; deleting: boolean }): Promise<boolean> {
      return classified('record failure', async () => {
        const status: DeploymentStatus = input.deleting ? 'deleting' : 'error';
        const written = await state.recordObserved(input.deploymentId, input.generation, { status, lastError: input.message, lastReconcileAt: new Date() });
        await state.appendEvent({
          deploymentId: input.deploymentId,
          generation: input.generation,
          type: 'error',
          actor: 'workflow',
          message: input.message,
          data: { retryable: input.retryable, attempt: input.attempt },
        });
        return written;
      });
    },

    async markDeleted(input: { deploymentId: string; generation: number }): Promise<void> {
      return classified('mark deleted', async () => {
        await state.markDeleted(input.deploymentId);
        await state.appendEvent({ deploymentId: input.deploymentId, generation: input.generation, type: 'deleted', actor: 'workflow', message: 'release and namespace removed' });
      });
    },
  };
}

export type StateActivities = ReturnType<typeof createStateActivities>;
