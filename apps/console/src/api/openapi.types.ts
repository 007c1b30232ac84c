// Generated from openapi.json by `npm run console:types`; do not edit.

export interface AllDeploymentsPage {
  /** Counts over every page of the same filter, most first */
  counts: DeploymentCountsResponse;
  items: ListedDeploymentResponse[];
  nextCursor: string | null;
}

export interface CreateDeploymentDto {
  domainName: string;
  templateId: string;
  /** User values, validated against the template schema under `user` */
  values?: Record<string, unknown>;
}

export interface CreateProductDto {
  /** Deployments' domain names must lie under one of these suffixes; replaces CAELUS_ALLOWED_DOMAIN_SUFFIXES for this product. null or []: the global list applies */
  allowedDomainSuffixes?: string[] | null;
  description?: string;
  /** DNS label, at most 40 characters */
  name: string;
}

export interface CreateRolloutDto {
  /** manual: the rollout pauses after each wave until resumed */
  approval?: "auto" | "manual";
  /** Only deployments on these versions. Left out: every live deployment on an older version that may upgrade to the target */
  fromTemplateIds?: string[];
  /** How long an upgraded deployment has to become ready (and not degraded) before it counts as failed */
  healthTimeoutSeconds?: number;
  /** More failed deployments than this halt the rollout (status failed), leaving the rest untouched */
  maxFailures?: number;
  /** Wait between waves */
  pauseBetweenWavesSeconds?: number;
  /** The template version every selected deployment is upgraded to */
  toTemplateId: string;
  /** Cumulative wave ends: a number is a count of deployments, a string a percentage of the selection. Default [1, "10%", "50%", "100%"]. A wave that adds nobody is dropped; the last wave takes whatever is left */
  waves?: unknown[];
}

export interface CreateTemplateDto {
  /** { quota?, limits?: { default?, defaultRequest?, max? }, upgradePolicy?: { allowFrom? }, backend?: "helm" | "flux" }. backend (default helm) is fixed for a deployment's life: an upgrade to a template of another backend is refused (409); flux needs an oci:// chart */
  capabilities?: Record<string, unknown>;
  /** Required for oci:// charts */
  chartDigest?: string;
  /** oci:// reference, or an absolute chart directory inside CAELUS_CHART_ROOTS */
  chartRef: string;
  chartVersion: string;
  defaultValues?: Record<string, unknown>;
  /** JSON Schema for the merged values; mark secret fields with "x-caelus-secret": true */
  valuesSchema?: Record<string, unknown>;
  /** Semantic version of this template; upgrades only go forward */
  version: string;
}

export interface CreateUserDto {
  email: string;
  isAdmin?: boolean;
  /** Live (not deleted) deployments the user may own; null: the configured default (CAELUS_MAX_DEPLOYMENTS_PER_USER) */
  maxDeployments?: number | null;
}

export interface CreatedUserResponse {
  /** Shown once; only its hash is stored. */
  apiToken: string;
  createdAt: string;
  /** The limit that applies (own or default); null: no limit */
  deploymentLimit: number | null;
  email: string;
  id: string;
  isAdmin: boolean;
  /** Live (not deleted) deployments the user owns, deleting ones included */
  liveDeployments: number;
  /** The user's own deployment limit; null when the configured default applies */
  maxDeployments: number | null;
}

export interface DeploymentCountsResponse {
  byProduct: ProductCount[];
  byStatus: StatusCount[];
  /** Per desired template version */
  byTemplate: TemplateCount[];
  /** Deployments matching the filter, over all pages */
  total: number;
}

export interface DeploymentEventPage {
  items: DeploymentEventResponse[];
  nextCursor: string | null;
}

export interface DeploymentEventResponse {
  actor: string;
  createdAt: string;
  data: Record<string, unknown>;
  generation: number;
  id: string;
  message: string;
  type: string;
}

export interface DeploymentPage {
  items: DeploymentResponse[];
  nextCursor: string | null;
}

export interface DeploymentResponse {
  appliedTemplateId: string | null;
  createdAt: string;
  deletedAt: string | null;
  deploymentUid: string;
  desiredTemplateId: string;
  domainName: string;
  drift: Record<string, unknown> | null;
  generation: number;
  /** The latest health assessment of the workloads (null before the first). A ready deployment unhealthy for longer than the grace (CAELUS_HEALTH_GRACE) is degraded */
  health?: HealthResponse | null;
  id: string;
  lastDriftCheckAt: string | null;
  lastError: string | null;
  lastReconcileAt: string | null;
  observedGeneration: number;
  productId: string;
  status: "provisioning" | "ready" | "upgrading" | "degraded" | "error" | "deleting" | "deleted";
  /** Suspended: values and upgrades are accepted and wait, nothing is applied, drift is recorded but not corrected, until resumed */
  suspended?: boolean;
  suspendedAt?: string | null;
  /** The reason given with the suspend request */
  suspendedReason?: string | null;
  updatedAt: string;
  userId: string;
  /** Secrets redacted */
  values: Record<string, unknown>;
  workflow: WorkflowLink;
}

export interface FieldProblemResponse {
  field: string;
  message: string;
}

export interface HealthObjectResponse {
  kind: string;
  name: string;
  reason: string | null;
  status: "healthy" | "progressing" | "unhealthy";
}

export interface HealthResponse {
  /** The generation whose release was assessed */
  generation: number;
  /** The objects that are not healthy (at most 10) */
  objects: HealthObjectResponse[];
  /** The worst object and why, e.g. "Deployment/web: 0 of 1 replicas available"; null when healthy */
  reason: string | null;
  /** When the worker first saw this status at this generation */
  since: string;
  /** The workloads' health: Deployments available, StatefulSets and DaemonSets ready, Jobs complete, PVCs bound, no crash loop */
  status: "healthy" | "progressing" | "unhealthy";
}

export interface ListedDeploymentResponse {
  appliedTemplateId: string | null;
  /** Version of the applied template; null before the first apply */
  appliedTemplateVersion: string | null;
  createdAt: string;
  deletedAt: string | null;
  deploymentUid: string;
  desiredTemplateId: string;
  /** Version of the desired template */
  desiredTemplateVersion: string | null;
  domainName: string;
  drift: Record<string, unknown> | null;
  generation: number;
  /** The latest health assessment of the workloads (null before the first). A ready deployment unhealthy for longer than the grace (CAELUS_HEALTH_GRACE) is degraded */
  health?: HealthResponse | null;
  id: string;
  lastDriftCheckAt: string | null;
  lastError: string | null;
  lastReconcileAt: string | null;
  observedGeneration: number;
  /** The owner's e-mail address */
  ownerEmail: string | null;
  productId: string;
  productName: string | null;
  status: "provisioning" | "ready" | "upgrading" | "degraded" | "error" | "deleting" | "deleted";
  /** Suspended: values and upgrades are accepted and wait, nothing is applied, drift is recorded but not corrected, until resumed */
  suspended?: boolean;
  suspendedAt?: string | null;
  /** The reason given with the suspend request */
  suspendedReason?: string | null;
  updatedAt: string;
  userId: string;
  /** Secrets redacted */
  values: Record<string, unknown>;
  workflow: WorkflowLink;
}

export interface ProductCount {
  count: number;
  productId: string;
  productName: string | null;
}

export interface ProductPage {
  items: ProductResponse[];
  nextCursor: string | null;
}

export interface ProductResponse {
  /** Allowed domain suffixes of this product; null: the global list applies */
  allowedDomainSuffixes: string[] | null;
  createdAt: string;
  description: string;
  id: string;
  name: string;
  updatedAt: string;
}

export interface RolloutEventResponse {
  actor: string;
  createdAt: string;
  data: Record<string, unknown>;
  id: string;
  message: string;
  type: string;
}

export interface RolloutPage {
  items: RolloutResponse[];
  nextCursor: string | null;
}

export interface RolloutResponse {
  approval: "auto" | "manual";
  createdAt: string;
  createdBy: string;
  /** 1-based; null before the first wave */
  currentWave: number | null;
  /** The newest events (single rollout only) */
  events?: RolloutEventResponse[];
  finishedAt: string | null;
  fromTemplateIds: string[] | null;
  healthTimeoutSeconds: number;
  id: string;
  maxFailures: number;
  pauseBetweenWavesSeconds: number;
  productId: string;
  /** Why the rollout stopped or is paused */
  reason: string | null;
  status: "running" | "paused" | "succeeded" | "failed" | "aborted";
  toTemplateId: string;
  /** Deployments selected; null until the workflow selected them */
  total: number | null;
  updatedAt: string;
  waveCounts: RolloutWaveResponse[];
  waves: unknown[];
  workflow: WorkflowLink;
}

export interface RolloutWaveResponse {
  failed: number;
  pending: number;
  size: number;
  skipped: number;
  upgraded: number;
  upgrading: number;
  /** 1-based */
  wave: number;
}

export interface SessionResponse {
  email: string | null;
  isAdmin: boolean;
  /** null for the bootstrap admin token, which has no user */
  userId: string | null;
}

export interface StatusCount {
  count: number;
  status: "provisioning" | "ready" | "upgrading" | "degraded" | "error" | "deleting" | "deleted";
}

export interface SuspendDeploymentDto {
  /** Why, for the timeline and the deployment (shown as suspendedReason) */
  reason?: string;
}

export interface TemplateCount {
  count: number;
  productId: string;
  productName: string | null;
  /** The desired template */
  templateId: string;
  version: string | null;
}

export interface TemplatePage {
  items: TemplateResponse[];
  nextCursor: string | null;
}

export interface TemplateRef {
  id: string;
  version: string;
}

export interface TemplateResponse {
  capabilities: Record<string, unknown>;
  chartDigest: string | null;
  chartRef: string;
  chartVersion: string;
  createdAt: string;
  defaultValues: Record<string, unknown>;
  id: string;
  productId: string;
  valuesSchema: Record<string, unknown> | null;
  version: string;
}

export interface UpdateDeploymentDto {
  /** The complete user values. A secret sent back as "[redacted]" keeps its stored value. */
  values: Record<string, unknown>;
}

export interface UpdateProductDto {
  /** Deployments' domain names must lie under one of these suffixes; replaces CAELUS_ALLOWED_DOMAIN_SUFFIXES for this product. null or []: the global list applies */
  allowedDomainSuffixes?: string[] | null;
  description?: string;
  name?: string;
}

export interface UpdateUserDto {
  /** Live (not deleted) deployments the user may own; null: the configured default (CAELUS_MAX_DEPLOYMENTS_PER_USER) */
  maxDeployments?: number | null;
}

export interface UpgradeDeploymentDto {
  templateId: string;
}

export interface UpgradePreviewResponse {
  /** Unified diff of the rendered manifests (helm template), object by object; Secret data masked */
  diff: string;
  /** The applied template the diff starts from; null before the first apply */
  fromTemplate: TemplateRef | null;
  /** Current generation, for If-Match on the upgrade */
  generation: number;
  /** A one-line summary: the reason for a refusal, a rendering failure, or what changes */
  message: string;
  /** Why it would be refused (the same rules as the upgrade: same product, forward only, allowFrom, values valid against the target schema) */
  problems: FieldProblemResponse[];
  /** False when the upgrade is not valid or the charts could not be rendered */
  rendered: boolean;
  toTemplate: TemplateRef;
  /** Whether the upgrade itself would be accepted */
  valid: boolean;
}

export interface UserPage {
  items: UserResponse[];
  nextCursor: string | null;
}

export interface UserResponse {
  createdAt: string;
  /** The limit that applies (own or default); null: no limit */
  deploymentLimit: number | null;
  email: string;
  id: string;
  isAdmin: boolean;
  /** Live (not deleted) deployments the user owns, deleting ones included */
  liveDeployments: number;
  /** The user's own deployment limit; null when the configured default applies */
  maxDeployments: number | null;
}

export interface WorkflowLink {
  id: string;
  uiUrl: string;
}
