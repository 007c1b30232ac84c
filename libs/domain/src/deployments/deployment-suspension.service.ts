import { EntityManager } from 'typeorm';
import { DeploymentEntity } from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { conflict, invalidInput } from '../errors';
import { DeploymentAccess, DeploymentsServiceDeps, isFinishing } from './deployment-access';
import { DeploymentView } from './deployment.view';

/** The longest note a suspension may carry (the column's CHECK says the same). */
export const MAX_SUSPEND_REASON_LENGTH = 300;

/**
 * Suspend and resume (the idea of Flux's `spec.suspend`): a suspended deployment keeps its
 * desired state moving (values and upgrades are accepted and wait), but its workflow applies
 * nothing and corrects no drift, which it still detects and records. Resume wakes the workflow,
 * which reconciles at once. A delete is never held back by a suspension: it clears it.
 * Both are idempotent; only a change writes an event.
 */
export class DeploymentSuspensionService {
  constructor(
    private readonly deps: DeploymentsServiceDeps,
    private readonly access: DeploymentAccess = new DeploymentAccess(deps),
  ) {}

  async suspend(principal: Principal, userId: string, deploymentId: string, reason?: string): Promise<DeploymentView> {
    const note = checkedReason(reason);
    return this.change(userId, deploymentId, async (d, m) => {
      if (d.suspendedAt) return false;
      await this.deps.deployments.update(d.id, { suspendedAt: new Date(), suspendedReason: note }, m);
      const message = note ? `suspended: ${note}` : 'suspended: changes wait and drift is not corrected until resumed';
      await this.deps.events.append({ deploymentId: d.id, generation: d.generation, type: 'suspended', actor: principal.actor, message, data: { reason: note } }, m);
      return true;
    });
  }

  async resume(principal: Principal, userId: string, deploymentId: string): Promise<DeploymentView> {
    return this.change(userId, deploymentId, async (d, m) => {
      if (!d.suspendedAt) return false;
      await this.deps.deployments.update(d.id, { suspendedAt: null, suspendedReason: null }, m);
      const waiting = d.generation - d.observedGeneration;
      const message = waiting > 0 ? `resumed: generation ${d.generation} is applied now` : 'resumed: the release is reconciled now';
      await this.deps.events.append({ deploymentId: d.id, generation: d.generation, type: 'resumed', actor: principal.actor, message, data: { suspendedAt: d.suspendedAt.toISOString() } }, m);
      return true;
    });
  }

  /** Locks the row, refuses a deployment being deleted (409), writes, then wakes the workflow if something changed. */
  private async change(userId: string, deploymentId: string, write: (d: DeploymentEntity, m: EntityManager) => Promise<boolean>): Promise<DeploymentView> {
    const { saved, changed } = await this.deps.db.transaction(async (m) => {
      const d = await this.access.lock(userId, deploymentId, m);
      if (isFinishing(d)) throw conflict(`deployment ${d.id} is ${d.status}: a deletion cannot be suspended or resumed`);
      const changed = await write(d, m);
      return { saved: changed ? await this.access.reread(d, m) : d, changed };
    });
    // A reconcile signal makes the workflow load the row and see the suspension (or its end).
    if (changed) await this.access.wake(saved, { name: 'reconcile', generation: saved.generation });
    return this.access.view(saved);
  }
}

function checkedReason(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw invalidInput('reason must be a string', [{ field: 'reason', message: 'must be a string' }]);
  const text = reason.trim();
  // eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) throw invalidInput('reason must not contain control characters', [{ field: 'reason', message: 'must not contain control characters' }]);
  if (text.length > MAX_SUSPEND_REASON_LENGTH) {
    throw invalidInput(`reason is longer than ${MAX_SUSPEND_REASON_LENGTH} characters`, [{ field: 'reason', message: `must be at most ${MAX_SUSPEND_REASON_LENGTH} characters` }]);
  }
  return text || null;
}
