/**
 * One CLI command per REST operation. The table is data so that the request a command sends
 * can be unit-tested, and so that a test can check it against the API's OpenAPI document.
 * Path parameters become positional arguments, in the order the path names them.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface OptionSpec {
  /** Commander flags, e.g. `--template-id <id>`. */
  flags: string;
  description: string;
  /** Where the value goes: a body field, a query parameter or a header. */
  to: 'body' | 'query' | 'header';
  /** The body field, query parameter or header name. */
  key: string;
  /**
   * string: sent as given; json: a JSON value, `@file.json`, `@file.yaml` or `@-` (stdin);
   * flag: a boolean switch, sent as `true` when present.
   */
  type: 'string' | 'json' | 'flag';
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  method: HttpMethod;
  /** The route as OpenAPI writes it: `/users/{userId}/deployments`. */
  path: string;
  options: OptionSpec[];
}

const page: OptionSpec[] = [
  { flags: '--limit <n>', description: 'page size, 1-100 (default 20)', to: 'query', key: 'limit', type: 'string' },
  { flags: '--cursor <cursor>', description: 'nextCursor of the previous page', to: 'query', key: 'cursor', type: 'string' },
];
const ifMatch: OptionSpec = {
  flags: '--if-match <generation>',
  description: 'the generation you last saw; the API answers 409 if the deployment moved on',
  to: 'header',
  key: 'If-Match',
  type: 'string',
};
const JSON_HINT = 'JSON, @file.json, @file.yaml or @- for stdin';
const maxDeployments: OptionSpec = {
  flags: '--max-deployments <n>',
  description: 'live deployments the user may own; null for the configured default',
  to: 'body',
  key: 'maxDeployments',
  type: 'json',
};
const domainSuffixes: OptionSpec = {
  flags: '--allowed-domain-suffixes <suffixes>',
  description: `allowed domain suffixes as a JSON list, e.g. '["apps.example.com"]'; null for the global list (${JSON_HINT})`,
  to: 'body',
  key: 'allowedDomainSuffixes',
  type: 'json',
};

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'whoami', summary: 'Show who the token belongs to (user id, e-mail, admin or not)', method: 'GET', path: '/session', options: [] },
  {
    name: 'create-user',
    summary: 'Create a user (admin); prints its API token once',
    method: 'POST',
    path: '/users',
    options: [
      { flags: '--email <email>', description: 'e-mail address', to: 'body', key: 'email', type: 'string', required: true },
      { flags: '--admin', description: 'make the user an admin', to: 'body', key: 'isAdmin', type: 'flag' },
      maxDeployments,
    ],
  },
  { name: 'list-users', summary: 'List users (admin)', method: 'GET', path: '/users', options: page },
  { name: 'get-user', summary: 'Show a user, with its deployment limit and live deployments', method: 'GET', path: '/users/{userId}', options: [] },
  { name: 'update-user', summary: "Change a user's deployment limit (admin)", method: 'PUT', path: '/users/{userId}', options: [{ ...maxDeployments, required: true }] },
  {
    name: 'rotate-token',
    summary: 'Issue a new API token for a user (the user or an admin); the old one stops working at once. Prints the new token once',
    method: 'POST',
    path: '/users/{userId}/token',
    options: [],
  },
  { name: 'delete-user', summary: 'Delete a user (admin)', method: 'DELETE', path: '/users/{userId}', options: [] },

  {
    name: 'create-product',
    summary: 'Create a product (admin)',
    method: 'POST',
    path: '/products',
    options: [
      { flags: '--name <name>', description: 'DNS label, at most 40 characters', to: 'body', key: 'name', type: 'string', required: true },
      { flags: '--description <text>', description: 'description', to: 'body', key: 'description', type: 'string' },
      domainSuffixes,
    ],
  },
  { name: 'list-products', summary: 'List products', method: 'GET', path: '/products', options: page },
  { name: 'get-product', summary: 'Show a product', method: 'GET', path: '/products/{productId}', options: [] },
  {
    name: 'update-product',
    summary: 'Rename or describe a product (admin)',
    method: 'PUT',
    path: '/products/{productId}',
    options: [
      { flags: '--name <name>', description: 'new name', to: 'body', key: 'name', type: 'string' },
      { flags: '--description <text>', description: 'new description', to: 'body', key: 'description', type: 'string' },
      domainSuffixes,
    ],
  },
  { name: 'delete-product', summary: 'Delete a product (admin)', method: 'DELETE', path: '/products/{productId}', options: [] },

  {
    name: 'create-template',
    summary: 'Publish a template version of a product (admin)',
    method: 'POST',
    path: '/products/{productId}/templates',
    options: [
      { flags: '--version <semver>', description: 'template version; upgrades only go forward', to: 'body', key: 'version', type: 'string', required: true },
      { flags: '--chart-ref <ref>', description: 'oci://… reference, or a chart directory inside the chart roots', to: 'body', key: 'chartRef', type: 'string', required: true },
      { flags: '--chart-version <version>', description: 'chart version', to: 'body', key: 'chartVersion', type: 'string', required: true },
      { flags: '--chart-digest <digest>', description: 'sha256:… (required for oci:// charts)', to: 'body', key: 'chartDigest', type: 'string' },
      { flags: '--default-values <values>', description: `default values (${JSON_HINT})`, to: 'body', key: 'defaultValues', type: 'json' },
      { flags: '--values-schema <schema>', description: `JSON Schema of the merged values (${JSON_HINT})`, to: 'body', key: 'valuesSchema', type: 'json' },
      { flags: '--capabilities <capabilities>', description: `quota, limits, upgradePolicy (${JSON_HINT})`, to: 'body', key: 'capabilities', type: 'json' },
    ],
  },
  { name: 'list-templates', summary: 'List the template versions of a product', method: 'GET', path: '/products/{productId}/templates', options: page },
  { name: 'get-template', summary: 'Show a template version', method: 'GET', path: '/products/{productId}/templates/{templateId}', options: [] },
  { name: 'delete-template', summary: 'Delete a template version (admin)', method: 'DELETE', path: '/products/{productId}/templates/{templateId}', options: [] },

  {
    name: 'create-deployment',
    summary: "Request a deployment for a user; the workflow provisions it",
    method: 'POST',
    path: '/users/{userId}/deployments',
    options: [
      { flags: '--template-id <id>', description: 'template version to deploy', to: 'body', key: 'templateId', type: 'string', required: true },
      { flags: '--domain-name <host>', description: 'host name, e.g. ada.apps.example.com', to: 'body', key: 'domainName', type: 'string', required: true },
      { flags: '--values <values>', description: `user values (${JSON_HINT})`, to: 'body', key: 'values', type: 'json' },
    ],
  },
  {
    name: 'list-deployments',
    summary: "List a user's deployments",
    method: 'GET',
    path: '/users/{userId}/deployments',
    options: [...page, { flags: '--status <status>', description: 'only deployments in this status', to: 'query', key: 'status', type: 'string' }],
  },
  { name: 'get-deployment', summary: 'Show a deployment', method: 'GET', path: '/users/{userId}/deployments/{deploymentId}', options: [] },
  {
    name: 'update-deployment',
    summary: "Replace a deployment's values (secrets sent back as \"[redacted]\" are kept)",
    method: 'PUT',
    path: '/users/{userId}/deployments/{deploymentId}',
    options: [{ flags: '--values <values>', description: `the complete user values (${JSON_HINT})`, to: 'body', key: 'values', type: 'json', required: true }, ifMatch],
  },
  { name: 'delete-deployment', summary: 'Delete a deployment and its namespace', method: 'DELETE', path: '/users/{userId}/deployments/{deploymentId}', options: [] },
  {
    name: 'upgrade-deployment',
    summary: 'Upgrade a deployment to a newer template of its product (admin)',
    method: 'POST',
    path: '/users/{userId}/deployments/{deploymentId}/upgrade',
    options: [
      { flags: '--template-id <id>', description: 'target template version', to: 'body', key: 'templateId', type: 'string', required: true },
      { flags: '--dry-run', description: 'only validate and print the diff of the rendered manifests; exits 1 if the upgrade would be refused', to: 'query', key: 'dryRun', type: 'flag' },
      ifMatch,
    ],
  },
  {
    name: 'get-deployment-events',
    summary: "A deployment's timeline, oldest first",
    method: 'GET',
    path: '/users/{userId}/deployments/{deploymentId}/events',
    options: page,
  },
  {
    name: 'list-all-deployments',
    summary: "List every user's deployments, with counts per status, product and template version (admin)",
    method: 'GET',
    path: '/deployments',
    options: [
      { flags: '--limit <n>', description: 'page size, 1-1000 (default 100)', to: 'query', key: 'limit', type: 'string' },
      page[1],
      { flags: '--status <status>', description: 'only deployments in this status', to: 'query', key: 'status', type: 'string' },
      { flags: '--product-id <id>', description: 'only deployments of this product', to: 'query', key: 'productId', type: 'string' },
      { flags: '--template-id <id>', description: 'only deployments whose desired template version is this one', to: 'query', key: 'templateId', type: 'string' },
    ],
  },
];

/** `{userId}` and the like, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/** The commander attribute name of an option: `--template-id <id>` → `templateId`. */
export function optionAttribute(flags: string): string {
  const long = /--([\w-]+)/.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
