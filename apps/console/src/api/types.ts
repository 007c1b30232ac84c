// Shapes of the REST API's responses: aliases of the types `npm run console:types` generates
// from openapi.json (./openapi.types.ts), under the names the console uses.
import type * as Api from './openapi.types';

export const DEPLOYMENT_STATUSES = ['provisioning', 'ready', 'upgrading', 'degraded', 'error', 'deleting', 'deleted'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
// The list above must name exactly the API's statuses (a compile error otherwise).
const sameStatuses: [DeploymentStatus, Api.DeploymentResponse['status']] extends [Api.DeploymentResponse['status'], DeploymentStatus] ? true : never = true;
void sameStatuses;
/** Statuses the workflow is still working on: pages showing them poll. */
export const BUSY_STATUSES: readonly string[] = ['provisioning', 'upgrading', 'deleting'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type JsonObject = Record<string, unknown>;
export type FieldProblem = Api.FieldProblemResponse;
export type Session = Api.SessionResponse;
export type User = Api.UserResponse;
export type CreatedUser = Api.CreatedUserResponse;
export type Product = Api.ProductResponse;
export type Template = Api.TemplateResponse;
export type NewTemplate = Api.CreateTemplateDto;
export type Deployment = Api.DeploymentResponse;
export type DeploymentEvent = Api.DeploymentEventResponse;
export type UpgradePreview = Api.UpgradePreviewResponse;
/** A deployment in the admin list (`GET /deployments`), with the names the list shows. */
export type ListedDeployment = Api.ListedDeploymentResponse;
export type DeploymentCounts = Api.DeploymentCountsResponse;
export type AllDeploymentsPage = Api.AllDeploymentsPage;
