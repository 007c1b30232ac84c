import { DeploymentsService, DeploymentStateService, DesiredState, UpgradeOutcome } from '../../../domain/src';
import { DeploymentStatus } from '../../../persistence/src';
import { classified } from './activity-errors';
import { DeploymentMetrics, reportMetric } from './metrics.port';

export interface StateActivityDeps {
  state: DeploymentStateService;
  deployments: DeploymentsService;
  driftIntervalSeconds: number;
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
  templateId: string;
  templateVersion: string;
  appliedTemplateId: string | null;
  driftIntervalSeconds: number;
}

/** The workflow's view of a loaded deployment. */
export function summarize(d: DesiredState, driftIntervalSeconds: number): DesiredSummary {
  return {
    deploymentId: d.deploymentId,
    deploymentUid: d.deploymentUid,
    userId: d.userId,
    productName: d.productName,
    status: d.status,
    generation: d.generation,
    observedGeneration: d.observedGeneration,
    deleting: d.deleting,
    templateId: d.template.id,
    templateVersion: d.template.version,
    appliedTemplateId: d.appliedTemplateId,
    driftIntervalSeconds,
  };
}

/** The deployment, or null when its row no longer exists. */
export async function loadOrNull(state: Pick<DeploymentStateService, 'load'>, deploymentId: string): Promise<DesiredState | null> {
  return state.load(deploymentId).catch((err) => {
    if ((err as { code?: string }).code === 'NotFound') return null;
    throw err;
  });
}

export function createStateActivities({ state, deployments, driftIntervalSeconds, metrics, now = () => new Date() }: StateActivityDeps) {
  return {
    /** Null when the deployment row no longer exists: the workflow then simply ends. */
    async loadDesiredState(input: { deploymentId: string }): Promise<DesiredSummary | null> {
      return classified('load desired state', async () => {
        const d = await loadOrNull(state, input.deploymentId);
        return d ? summarize(d, driftIntervalSeconds) : null;
      });
    },

    /** Validates and persists an upgrade signal with the API's rules; a rejection is recorded, not thrown. */
    async acceptUpgrade(input: { deploymentId: string; templateId: unknown; requestedBy?: unknown }): Promise<UpgradeOutcome> {
      return classified('accept upgrade', async () => {
        const requestedBy = typeof input.requestedBy === 'string' && input.requestedBy.length <= 200 ? input.requestedBy : 'temporal-signal';
        const templateId = typeof input.templateId === 'string' ? input.templateId.toLowerCase() : '';
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(templateId)) {
          const d = await state.load(input.deploymentId);
          const reason = 'the upgrade signal needs {"templateId": "<uuid>"}';
          await state.appendEvent({ deploymentId: d.deploymentId, generation: d.generation, type: 'upgrade-rejected', actor: requestedBy, message: `upgrade rejected: ${reason}`, data: { reason } });
          return { outcome: 'rejected', reason };
        }
        return deployments.acceptUpgradeSignal(input.deploymentId, templateId, requestedBy);
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
