import { DataSource, EntityManager } from 'typeorm';
import {
  DeploymentEntity,
  DeploymentEventsRepository,
  DeploymentsRepository,
  DeploymentStatus,
  ProductsRepository,
  TemplatesRepository,
  TemplateVersionEntity,
  UsersRepository,
} from '../../../persistence/src';
import { conflict, notFound } from '../errors';
import { DeploymentSignal, DeploymentWorkflowPort, DomainLogger, ManifestRenderer } from '../ports';
import { DeploymentQuota } from '../users/deployment-quota';
import { SecretBox, ValuesValidator } from '../values';
import { DeploymentView, toDeploymentView } from './deployment.view';

export interface DeploymentsServiceDeps {
  db: DataSource;
  users: UsersRepository;
  products: ProductsRepository;
  templates: TemplatesRepository;
  deployments: DeploymentsRepository;
  events: DeploymentEventsRepository;
  validator: ValuesValidator;
  box: SecretBox;
  workflows: DeploymentWorkflowPort;
  renderer: ManifestRenderer;
  logger: DomainLogger;
  /** Limits on live deployments (none when left out). */
  quota?: DeploymentQuota;
  /** Normalised suffixes every domain name must be under, unless its product has its own list; empty: any name. */
  allowedDomainSuffixes?: readonly string[];
}

const FINISHING: DeploymentStatus[] = ['deleting', 'deleted'];

export const isFinishing = (d: DeploymentEntity): boolean => FINISHING.includes(d.status);

/** What the deployment services share: reading and locking a user's deployment, and waking its workflow. */
export class DeploymentAccess {
  constructor(private readonly deps: Pick<DeploymentsServiceDeps, 'deployments' | 'templates' | 'workflows' | 'logger'>) {}

  assertMutable(d: DeploymentEntity, expectedGeneration?: number): void {
    if (isFinishing(d)) throw conflict(`deployment ${d.id} is ${d.status}`);
    if (expectedGeneration !== undefined && expectedGeneration !== d.generation) {
      throw conflict(`deployment ${d.id} changed: it is at generation ${d.generation}, not ${expectedGeneration}`, [{ field: 'If-Match', message: `current generation is ${d.generation}` }]);
    }
  }

  async find(userId: string, deploymentId: string): Promise<DeploymentEntity> {
    const d = await this.deps.deployments.findById(deploymentId);
    if (!d || d.userId !== userId) throw notFound('deployment', deploymentId);
    return d;
  }

  async lock(userId: string, deploymentId: string, m: EntityManager): Promise<DeploymentEntity> {
    const d = await this.deps.deployments.findByIdForUpdate(deploymentId, m);
    if (!d || d.userId !== userId) throw notFound('deployment', deploymentId);
    return d;
  }

  /** The row as committed by the transaction `m` just wrote it in. */
  async reread(d: DeploymentEntity, m: EntityManager): Promise<DeploymentEntity> {
    return (await this.deps.deployments.findById(d.id, m))!;
  }

  async templateOf(id: string, m?: EntityManager): Promise<TemplateVersionEntity> {
    const t = await this.deps.templates.findById(id, m);
    if (!t) throw new Error(`template ${id} referenced by a deployment is missing`);
    return t;
  }

  /**
   * The desired state is committed before this runs. If signalling fails (Temporal down, API
   * killed), the worker's supervisor starts the workflow later, so nothing is lost.
   */
  async wake(d: DeploymentEntity, signal: DeploymentSignal): Promise<void> {
    try {
      await this.deps.workflows.wake(d, signal);
    } catch (err) {
      this.deps.logger.warn({ deploymentId: d.id, signal: signal.name, err: (err as Error).message }, 'could not signal the deployment workflow; the supervisor will retry');
    }
  }

  view(d: DeploymentEntity): DeploymentView {
    return toDeploymentView(d, this.deps.workflows.describe(d.deploymentUid));
  }
}
