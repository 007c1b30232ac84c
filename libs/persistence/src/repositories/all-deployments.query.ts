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
