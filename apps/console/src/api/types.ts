// Shapes of the REST API's responses (openapi.json); only what the console reads.

export const DEPLOYMENT_STATUSES = ['provisioning', 'ready', 'upgrading', 'degraded', 'error', 'deleting', 'deleted'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
/** Statuses the workflow is still working on: pages showing them poll. */
export const BUSY_STATUSES: readonly string[] = ['provisioning', 'upgrading', 'deleting'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Session {
  userId: string | null;
  email: string | null;
  isAdmin: boolean;
}

export interface User {
  id: string;
  email: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface CreatedUser extends User {
  apiToken: string;
}

export interface Product {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

export type JsonObject = Record<string, unknown>;

export interface Template {
  id: string;
  productId: string;
  version: string;
  chartRef: string;
  chartVersion: string;
  chartDigest: string | null;
  defaultValues: JsonObject;
  valuesSchema: JsonObject | null;
  capabilities: JsonObject;
  createdAt: string;
}

export interface NewTemplate {
  version: string;
  chartRef: string;
  chartVersion: string;
  chartDigest?: string;
  defaultValues?: JsonObject;
  valuesSchema?: JsonObject;
  capabilities?: JsonObject;
}

export interface Deployment {
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
  drift: unknown;
  lastReconcileAt: string | null;
  lastDriftCheckAt: string | null;
  workflow: { id: string; uiUrl: string };
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface DeploymentEvent {
  id: string;
  generation: number;
  type: string;
  actor: string;
  message: string;
  data: JsonObject;
  createdAt: string;
}

export interface UpgradePreview {
  valid: boolean;
  problems: FieldProblem[];
  message: string;
  generation: number;
  fromTemplate: { id: string; version: string } | null;
  toTemplate: { id: string; version: string };
  rendered: boolean;
  diff: string;
}

/** A deployment in the admin list (`GET /deployments`), with the names the list shows. */
export interface ListedDeployment extends Deployment {
  ownerEmail: string | null;
  productName: string | null;
  desiredTemplateVersion: string | null;
  appliedTemplateVersion: string | null;
}

export interface DeploymentCounts {
  total: number;
  byStatus: { status: DeploymentStatus; count: number }[];
  byProduct: { productId: string; productName: string | null; count: number }[];
  byTemplate: { templateId: string; productId: string; productName: string | null; version: string | null; count: number }[];
}

export interface AllDeploymentsPage extends Page<ListedDeployment> {
  counts: DeploymentCounts;
}
