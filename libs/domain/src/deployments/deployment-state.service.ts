import {
  DeploymentEventsRepository,
  DeploymentsRepository,
  DeploymentStatus,
  DriftSummary,
  HealthSummary,
  NewDeploymentEvent,
  ObservedState,
  TemplateCapabilities,
  TemplatesRepository,
} from '../../../persistence/src';
import { notFound } from '../errors';
import { JsonObject, SecretBox, ValuePath } from '../values';
import { openValues, secretValuePaths } from './deployment-values';
import { LRUCache } from 'lru-cache';

/** What the workflow needs to drive the cluster: ids, generations and chart coordinates, no values. */
export interface DesiredState {
  deploymentId: string;
  deploymentUid: string;
  userId: string;
  productId: string;
  productName: string;
  status: DeploymentStatus;
  generation: number;
  observedGeneration: number;
  deleting: boolean;
  /** Suspended: nothing is applied and drift is recorded, not corrected. */
  suspended: boolean;
  /** When the last drift check was recorded: what a release backend reported since is new. */
  lastDriftCheckAt?: Date | null;
  template: {
    id: string;
    version: string;
    chartRef: string;
    chartVersion: string;
    chartDigest: string | null;
    capabilities: TemplateCapabilities;
  };
  appliedTemplateId: string | null;
}

/**
 * The workflow side of the desired state: reads for activities and guarded write-backs.
 * Rendered values (secrets decrypted) go only to the helm activity, never into workflow history.
 */
export class DeploymentStateService {
  /** Template versions are immutable: their chart coordinates are read from Postgres once. Bounded. */
  private readonly templateCoordinates = new LRUCache<string, DesiredState['template']>({ max: 1000 });

  constructor(
    private readonly deployments: DeploymentsRepository,
    private readonly templates: TemplatesRepository,
    private readonly events: DeploymentEventsRepository,
    private readonly box: SecretBox,
  ) {}

  async load(deploymentId: string): Promise<DesiredState> {
    const d = await this.deployments.findDesired(deploymentId);
    if (!d) throw notFound('deployment', deploymentId);
    const t = await this.templateOf(d.desiredTemplateId);
    if (!t) throw notFound('template', d.desiredTemplateId);
    return {
      deploymentId: d.id,
      deploymentUid: d.deploymentUid,
      userId: d.userId,
      productId: d.productId,
      productName: d.productName,
      status: d.status,
      generation: d.generation,
      observedGeneration: d.observedGeneration,
      deleting: d.status === 'deleting' || d.status === 'deleted',
      suspended: Boolean(d.suspendedAt),
      lastDriftCheckAt: d.lastDriftCheckAt ?? null,
      template: t,
      appliedTemplateId: d.appliedTemplateId,
    };
  }

  private async templateOf(id: string): Promise<DesiredState['template'] | undefined> {
    const cached = this.templateCoordinates.get(id);
    if (cached) return cached;
    const t = await this.templates.findById(id);
    if (!t) return undefined;
    const coordinates = { id: t.id, version: t.version, chartRef: t.chartRef, chartVersion: t.chartVersion, chartDigest: t.chartDigest, capabilities: t.capabilities ?? {} };
    this.templateCoordinates.set(id, coordinates);
    return coordinates;
  }

  /**
   * Merged values for helm, secrets decrypted, and where the secrets are in them. Call only
   * inside the activity that runs the release.
   */
  async renderValues(deploymentId: string): Promise<{ generation: number; values: JsonObject; secretPaths?: ValuePath[] }> {
    const d = await this.deployments.findById(deploymentId);
    if (!d) throw notFound('deployment', deploymentId);
    const t = await this.templates.findById(d.desiredTemplateId);
    if (!t) throw notFound('template', d.desiredTemplateId);
    const values = openValues(this.box, t, d.userValues, d);
    return { generation: d.generation, values, secretPaths: secretValuePaths(t, d.userValues, values) };
  }

  /** Guarded by generation: false when the desired state has moved on since `generation`. */
  recordObserved(deploymentId: string, generation: number, observed: ObservedState): Promise<boolean> {
    return this.deployments.writeObserved(deploymentId, generation, observed);
  }

  async recordDriftCheck(deploymentId: string, generation: number, summary: DriftSummary, status?: DeploymentStatus): Promise<boolean> {
    if (!status) return this.deployments.writeDriftCheck(deploymentId, generation, new Date(summary.checkedAt), summary);
    return this.deployments.writeObserved(deploymentId, generation, { status, lastDriftCheckAt: new Date(summary.checkedAt), driftSummary: summary });
  }

  /** The latest health assessment; guarded by generation like the drift check's write-back. */
  recordHealth(deploymentId: string, generation: number, health: HealthSummary): Promise<boolean> {
    return this.deployments.writeHealth(deploymentId, generation, health);
  }

  async markDeleted(deploymentId: string): Promise<void> {
    await this.deployments.markDeleted(deploymentId);
  }

  /**
   * The oldest request not yet observed ready: the creation, an upgrade or a values change recorded
   * for a generation after `observedGeneration`. Provisioning and upgrade durations are measured from it.
   */
  async pendingRequest(deploymentId: string, observedGeneration: number): Promise<{ kind: 'provisioning' | 'upgrade' | 'values'; at: Date } | undefined> {
    const e = await this.events.firstAfterGeneration(deploymentId, ['created', 'upgrade-requested', 'values-updated'], observedGeneration);
    if (!e) return undefined;
    return { kind: e.type === 'created' ? 'provisioning' : e.type === 'upgrade-requested' ? 'upgrade' : 'values', at: e.createdAt };
  }

  async appendEvent(e: NewDeploymentEvent): Promise<void> {
    await this.events.append(e);
  }
}
