import { DeploymentStateService } from '../../../domain/src';
import { assessNamespaceHealth, HealthAssessment, HealthStatus, KubeClient, TenantClients } from '../../../platform/src';
import { classified } from './activity-errors';
import { DeploymentMetrics, reportMetric } from './metrics.port';
import { LRUCache } from 'lru-cache';

export interface HealthActivityDeps {
  kube: KubeClient;
  state: DeploymentStateService;
  metrics: DeploymentMetrics;
  /** Reads in a tenant namespace go through its ServiceAccount (which may list its workloads); `kube` when left out (tests). */
  tenants?: TenantClients;
  /** How long a ready deployment may stay unhealthy before it is degraded; 0 or unset: no health assessment. */
  healthGraceSeconds?: number;
  /** One check shared with the drift tick, so both know what was last written (made here when left out). */
  healthCheck?: HealthCheck;
}

/** What the workflow keeps of an assessment: no object list, a bounded reason. */
export interface HealthReport {
  status: HealthStatus;
  reason: string | null;
}

/** Reasons go into workflow history and events: bounded. */
const MAX_REASON = 300;
const MAX_MEMOS = 10_000;

/**
 * Assesses a release's workloads and writes the assessment to the deployment's row when it
 * changed (status or reason), with the time its status began (as this worker saw it). Shared by the drift tick and the
 * assessment after an apply.
 */
export function createHealthCheck({ kube, tenants, state }: Pick<HealthActivityDeps, 'kube' | 'tenants' | 'state'>) {
  // Per deployment, the assessment last written: a steady one is not written again, and a new
  // reason for the same status keeps the time that status began.
  const written = new LRUCache<string, { signature: string; generation: number; status: HealthStatus; since: string }>({ max: MAX_MEMOS });
  return async (input: { deploymentId: string; deploymentUid: string; generation: number; kinds?: ReadonlySet<string> }): Promise<HealthReport> => {
    const namespace = input.deploymentUid;
    const assessment: HealthAssessment = await assessNamespaceHealth(tenants?.for(namespace) ?? kube, namespace, { kinds: input.kinds });
    const reason = assessment.reason === null ? null : assessment.reason.slice(0, MAX_REASON);
    const signature = JSON.stringify([input.generation, assessment.status, reason]);
    const last = written.get(input.deploymentId);
    if (last?.signature !== signature) {
      const since = last && last.generation === input.generation && last.status === assessment.status ? last.since : new Date().toISOString();
      const objects = assessment.objects.map((o) => ({ ...o, reason: o.reason === null ? null : o.reason.slice(0, MAX_REASON) }));
      await state.recordHealth(input.deploymentId, input.generation, { status: assessment.status, reason, generation: input.generation, since, objects });
      written.set(input.deploymentId, { signature, generation: input.generation, status: assessment.status, since });
    }
    return { status: assessment.status, reason };
  };
}

export type HealthCheck = ReturnType<typeof createHealthCheck>;

export function createHealthActivities(deps: HealthActivityDeps) {
  const { state, metrics } = deps;
  const assess = deps.healthCheck ?? createHealthCheck(deps);
  return {
    /** The workloads' health after an apply (and when the workflow re-checks a health it waits on). */
    async assessHealth(input: { deploymentId: string; deploymentUid: string; generation: number }): Promise<HealthReport> {
      return classified('assess health', () => assess(input));
    },

    /**
     * A ready deployment whose workloads stayed unhealthy past the grace is degraded; a degraded one
     * whose workloads are healthy again is ready. Guarded by generation: false when it moved on.
     */
    async recordHealthChange(input: { deploymentId: string; generation: number; phase: 'degraded' | 'ready'; reason: string | null; product: string; graceSeconds: number }): Promise<boolean> {
      return classified('record health change', async () => {
        const written = await state.recordObserved(input.deploymentId, input.generation, { status: input.phase });
        if (!written) return false;
        const degraded = input.phase === 'degraded';
        await state.appendEvent({
          deploymentId: input.deploymentId,
          generation: input.generation,
          type: degraded ? 'degraded' : 'recovered',
          actor: 'workflow',
          message: degraded ? `degraded: ${input.reason ?? 'the workloads are not healthy'} (not healthy for more than ${input.graceSeconds} s)` : 'the workloads are healthy again: ready',
          data: { reason: input.reason },
        });
        reportMetric(() => metrics.healthChanged?.({ product: input.product, phase: input.phase }));
        return true;
      });
    },
  };
}

export type HealthActivities = ReturnType<typeof createHealthActivities>;
