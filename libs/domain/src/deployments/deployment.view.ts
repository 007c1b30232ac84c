import { DeploymentEntity, DeploymentEventEntity, DeploymentStatus, DriftSummary, HealthSummary } from '../../../persistence/src';
import { WorkflowRef } from '../ports';
import { JsonObject, redactAllSealed } from '../values';

/** What the API shows of a deployment: secrets are always redacted. */
export interface DeploymentView {
  id: string;
  deploymentUid: string;
  userId: string;
  productId: string;
  status: DeploymentStatus;
  desiredTemplateId: string;
  appliedTemplateId: string | null;
  generation: number;
  observedGeneration: number;
  lastError: string | null;
  domainName: string;
  values: JsonObject;
  drift: DriftSummary | null;
  lastReconcileAt: string | null;
  lastDriftCheckAt: string | null;
  /** The latest health assessment of the workloads; null before the first. */
  health: HealthSummary | null;
  /** Whether the workflow holds back applies and drift corrections (changes are accepted and wait). */
  suspended: boolean;
  suspendedAt: string | null;
  suspendedReason: string | null;
  workflow: WorkflowRef;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export function toDeploymentView(d: DeploymentEntity, workflow: WorkflowRef): DeploymentView {
  return {
    id: d.id,
    deploymentUid: d.deploymentUid,
    userId: d.userId,
    productId: d.productId,
    status: d.status,
    desiredTemplateId: d.desiredTemplateId,
    appliedTemplateId: d.appliedTemplateId,
    generation: d.generation,
    observedGeneration: d.observedGeneration,
    lastError: d.lastError,
    domainName: d.domainName,
    values: redactAllSealed(d.userValues) as JsonObject,
    drift: d.driftSummary,
    lastReconcileAt: d.lastReconcileAt?.toISOString() ?? null,
    lastDriftCheckAt: d.lastDriftCheckAt?.toISOString() ?? null,
    health: d.health ?? null,
    suspended: Boolean(d.suspendedAt),
    suspendedAt: d.suspendedAt?.toISOString() ?? null,
    suspendedReason: d.suspendedReason ?? null,
    workflow,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    deletedAt: d.deletedAt?.toISOString() ?? null,
  };
}

export interface DeploymentEventView {
  id: string;
  generation: number;
  type: string;
  actor: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export function toEventView(e: DeploymentEventEntity): DeploymentEventView {
  return { id: String(e.id), generation: e.generation, type: e.type, actor: e.actor, message: e.message, data: e.data, createdAt: e.createdAt.toISOString() };
}
