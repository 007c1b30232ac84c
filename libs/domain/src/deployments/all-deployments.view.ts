import { DeploymentCounts, ListedDeployment } from '../../../persistence/src';
import { WorkflowRef } from '../ports';
import { DeploymentView, toDeploymentView } from './deployment.view';

/** A deployment in the admin list: the usual view, with the names the list shows. */
export interface ListedDeploymentView extends DeploymentView {
  ownerEmail: string | null;
  productName: string | null;
  desiredTemplateVersion: string | null;
  appliedTemplateVersion: string | null;
}

/** A page of every user's deployments, with counts over all pages of the same filter. */
export interface AllDeploymentsPageView {
  items: ListedDeploymentView[];
  nextCursor: string | null;
  counts: DeploymentCounts;
}

export function toListedDeploymentView(l: ListedDeployment, workflow: WorkflowRef): ListedDeploymentView {
  return {
    ...toDeploymentView(l.deployment, workflow),
    ownerEmail: l.ownerEmail,
    productName: l.productName,
    desiredTemplateVersion: l.desiredTemplateVersion,
    appliedTemplateVersion: l.appliedTemplateVersion,
  };
}
