import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DeploymentEntity, DeploymentStatus } from '../entities';

/** The admin list's filter: a status (without one, every status but deleted), a product, a desired template. */
export interface AllDeploymentsFilter {
  status?: DeploymentStatus;
  productId?: string;
  templateId?: string;
}

/** What a listing shows besides the deployment's own columns; null when the row it names is gone. */
export interface ListedNames {
  ownerEmail: string | null;
  productName: string | null;
  desiredTemplateVersion: string | null;
  appliedTemplateVersion: string | null;
}

export interface ListedDeployment extends ListedNames {
  deployment: DeploymentEntity;
}

export interface DeploymentCounts {
  total: number;
  byStatus: { status: DeploymentStatus; count: number }[];
  byProduct: { productId: string; productName: string | null; count: number }[];
  byTemplate: { templateId: string; productId: string; productName: string | null; version: string | null; count: number }[];
}

/** The admin list's WHERE, shared by its page query and its counts. */
export function whereAllDeployments<Q extends SelectQueryBuilder<ObjectLiteral>>(qb: Q, filter: AllDeploymentsFilter): Q {
  if (filter.status) qb.andWhere('d.status = :status', { status: filter.status });
  else qb.andWhere(`d.status <> 'deleted'`);
  if (filter.productId) qb.andWhere('d.product_id = :productId', { productId: filter.productId });
  if (filter.templateId) qb.andWhere('d.desired_template_id = :templateId', { templateId: filter.templateId });
  return qb;
}

/** A timestamptz as the ISO text `Date` parses natively (node-postgres' own parsing is much slower). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The admin list's select list: a deployment's columns and its names (aliases d, u, p, td, ta). */
export const LISTED_COLUMNS: readonly [string, string][] = [
  ['d.id', 'id'],
  ['d.user_id', 'userId'],
  ['d.product_id', 'productId'],
  ['d.deployment_uid', 'deploymentUid'],
  ['d.domain_name', 'domainName'],
  ['d.desired_template_id', 'desiredTemplateId'],
  ['d.applied_template_id', 'appliedTemplateId'],
  ['d.user_values', 'userValues'],
  ['d.generation', 'generation'],
  ['d.observed_generation', 'observedGeneration'],
  ['d.status', 'status'],
  ['d.last_error', 'lastError'],
  [iso('d.last_reconcile_at'), 'lastReconcileAt'],
  [iso('d.last_drift_check_at'), 'lastDriftCheckAt'],
  ['d.drift_summary', 'driftSummary'],
  [iso('d.created_at'), 'createdAt'],
  [iso('d.updated_at'), 'updatedAt'],
  [iso('d.deleted_at'), 'deletedAt'],
  [iso('d.suspended_at'), 'suspendedAt'],
  ['d.suspended_reason', 'suspendedReason'],
  ['d.health', 'health'],
  ['u.email', 'ownerEmail'],
  ['p.name', 'productName'],
  ['td.version', 'desiredTemplateVersion'],
  ['ta.version', 'appliedTemplateVersion'],
];

type DateKeys = 'lastReconcileAt' | 'lastDriftCheckAt' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'suspendedAt';

/** A row of LISTED_COLUMNS: the entity's columns (timestamps as ISO text) and the names. */
export type ListedRow = Omit<DeploymentEntity, DateKeys> &
  ListedNames & { lastReconcileAt: string | null; lastDriftCheckAt: string | null; createdAt: string; updatedAt: string; deletedAt: string | null; suspendedAt: string | null };

const date = (s: string | null): Date | null => (s === null ? null : new Date(s));

export function listedFromRow(r: ListedRow): ListedDeployment {
  const deployment = Object.assign(new DeploymentEntity(), {
    id: r.id,
    userId: r.userId,
    productId: r.productId,
    deploymentUid: r.deploymentUid,
    domainName: r.domainName,
    desiredTemplateId: r.desiredTemplateId,
    appliedTemplateId: r.appliedTemplateId,
    userValues: r.userValues,
    generation: r.generation,
    observedGeneration: r.observedGeneration,
    status: r.status,
    lastError: r.lastError,
    lastReconcileAt: date(r.lastReconcileAt),
    lastDriftCheckAt: date(r.lastDriftCheckAt),
    driftSummary: r.driftSummary,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
    deletedAt: date(r.deletedAt),
    suspendedAt: date(r.suspendedAt),
    suspendedReason: r.suspendedReason,
    health: r.health ?? null,
  });
  return { deployment, ownerEmail: r.ownerEmail, productName: r.productName, desiredTemplateVersion: r.desiredTemplateVersion, appliedTemplateVersion: r.appliedTemplateVersion };
}
