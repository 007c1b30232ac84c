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

/** One option: where its value goes and how it is read (see OptionSpec). */
function option(to: OptionSpec['to'], type: OptionSpec['type'], flags: string, key: string, description: string, required = false): OptionSpec {
  return required ? { flags, description, to, key, type, required } : { flags, description, to, key, type };
}
const required = true;

/** One command: `route` is the method and the OpenAPI path, e.g. `GET /users/{userId}`. */
function command(name: string, route: `${HttpMethod} /${string}`, summary: string, options: OptionSpec[] = []): CommandSpec {
  const [method, path] = route.split(' ') as [HttpMethod, string];
  return { name, summary, method, path, options };
}

const JSON_HINT = 'JSON, @file.json, @file.yaml or @- for stdin';
const page: OptionSpec[] = [
  option('query', 'string', '--limit <n>', 'limit', 'page size, 1-100 (default 20)'),
  option('query', 'string', '--cursor <cursor>', 'cursor', 'nextCursor of the previous page'),
];
const ifMatch = option('header', 'string', '--if-match <generation>', 'If-Match', 'the generation you last saw; the API answers 409 if the deployment moved on');
const maxDeployments = option('body', 'json', '--max-deployments <n>', 'maxDeployments', 'live deployments the user may own; null for the configured default');
const domainSuffixes = option(
  'body',
  'json',
  '--allowed-domain-suffixes <suffixes>',
  'allowedDomainSuffixes',
  `allowed domain suffixes as a JSON list, e.g. '["apps.example.com"]'; null for the global list (${JSON_HINT})`,
);
const email = option('body', 'string', '--email <email>', 'email', 'e-mail address', required);
const isAdmin = option('body', 'flag', '--admin', 'isAdmin', 'make the user an admin');
const productName = option('body', 'string', '--name <name>', 'name', 'new name');
const productDescription = option('body', 'string', '--description <text>', 'description', 'description');
const USER = '/users/{userId}';
const PRODUCT = '/products/{productId}';
const DEPLOYMENT = `${USER}/deployments/{deploymentId}`;

export const COMMANDS: readonly CommandSpec[] = [
  command('whoami', 'GET /session', 'Show who the token belongs to (user id, e-mail, admin or not)'),
  command('create-user', 'POST /users', 'Create a user (admin); prints its API token once', [email, isAdmin, maxDeployments]),
  command('list-users', 'GET /users', 'List users (admin)', page),
  command('get-user', `GET ${USER}`, 'Show a user, with its deployment limit and live deployments'),
  command('update-user', `PUT ${USER}`, "Change a user's deployment limit (admin)", [{ ...maxDeployments, required }]),
  command('rotate-token', `POST ${USER}/token`, 'Issue a new API token for a user (the user or an admin); the old one stops working at once. Prints the new token once'),
  command('delete-user', `DELETE ${USER}`, 'Delete a user (admin)'),

  command('create-product', 'POST /products', 'Create a product (admin)', [{ ...productName, description: 'DNS label, at most 40 characters', required }, productDescription, domainSuffixes]),
  command('list-products', 'GET /products', 'List products', page),
  command('get-product', `GET ${PRODUCT}`, 'Show a product'),
  command('update-product', `PUT ${PRODUCT}`, 'Rename or describe a product (admin)', [productName, { ...productDescription, description: 'new description' }, domainSuffixes]),
  command('delete-product', `DELETE ${PRODUCT}`, 'Delete a product (admin)'),

  command('create-template', `POST ${PRODUCT}/templates`, 'Publish a template version of a product (admin)', [
    option('body', 'string', '--version <semver>', 'version', 'template version; upgrades only go forward', required),
    option('body', 'string', '--chart-ref <ref>', 'chartRef', 'oci://… reference, or a chart directory inside the chart roots', required),
    option('body', 'string', '--chart-version <version>', 'chartVersion', 'chart version', required),
    option('body', 'string', '--chart-digest <digest>', 'chartDigest', 'sha256:… (required for oci:// charts)'),
    option('body', 'json', '--default-values <values>', 'defaultValues', `default values (${JSON_HINT})`),
    option('body', 'json', '--values-schema <schema>', 'valuesSchema', `JSON Schema of the merged values (${JSON_HINT})`),
    option('body', 'json', '--capabilities <capabilities>', 'capabilities', `quota, limits, upgradePolicy, backend (${JSON_HINT})`),
  ]),
  command('list-templates', `GET ${PRODUCT}/templates`, 'List the template versions of a product', page),
  command('get-template', `GET ${PRODUCT}/templates/{templateId}`, 'Show a template version'),
  command('delete-template', `DELETE ${PRODUCT}/templates/{templateId}`, 'Delete a template version (admin)'),

  command('create-deployment', `POST ${USER}/deployments`, 'Request a deployment for a user; the workflow provisions it', [
    option('body', 'string', '--template-id <id>', 'templateId', 'template version to deploy', required),
    option('body', 'string', '--domain-name <host>', 'domainName', 'host name, e.g. ada.apps.example.com', required),
    option('body', 'json', '--values <values>', 'values', `user values (${JSON_HINT})`),
  ]),
  command('list-deployments', `GET ${USER}/deployments`, "List a user's deployments", [...page, option('query', 'string', '--status <status>', 'status', 'only deployments in this status')]),
  command('get-deployment', `GET ${DEPLOYMENT}`, 'Show a deployment'),
  command('update-deployment', `PUT ${DEPLOYMENT}`, 'Replace a deployment\'s values (secrets sent back as "[redacted]" are kept)', [
    option('body', 'json', '--values <values>', 'values', `the complete user values (${JSON_HINT})`, required),
    ifMatch,
  ]),
  command('delete-deployment', `DELETE ${DEPLOYMENT}`, 'Delete a deployment and its namespace'),
  command('upgrade-deployment', `POST ${DEPLOYMENT}/upgrade`, 'Upgrade a deployment to a newer template of its product (admin)', [
    option('body', 'string', '--template-id <id>', 'templateId', 'target template version', required),
    option('query', 'flag', '--dry-run', 'dryRun', 'only validate and print the diff of the rendered manifests; exits 1 if the upgrade would be refused'),
    ifMatch,
  ]),
  command('suspend-deployment', `POST ${DEPLOYMENT}/suspend`, 'Suspend a deployment: changes wait and drift is recorded, not corrected, until resumed', [
    option('body', 'string', '--reason <text>', 'reason', 'why, shown on the deployment and in its timeline'),
  ]),
  command('resume-deployment', `POST ${DEPLOYMENT}/resume`, 'Resume a suspended deployment; it reconciles at once'),
  command('get-deployment-events', `GET ${DEPLOYMENT}/events`, "A deployment's timeline, oldest first", page),
  command('list-all-deployments', 'GET /deployments', "List every user's deployments, with counts per status, product and template version (admin)", [
    option('query', 'string', '--limit <n>', 'limit', 'page size, 1-1000 (default 100)'),
    page[1],
    option('query', 'string', '--status <status>', 'status', 'only deployments in this status'),
    option('query', 'string', '--product-id <id>', 'productId', 'only deployments of this product'),
    option('query', 'string', '--template-id <id>', 'templateId', 'only deployments whose desired template version is this one'),
  ]),

  command('create-rollout', `POST ${PRODUCT}/rollouts`, "Upgrade a product's deployments to a template version in waves, gated on their health (admin)", [
    option('body', 'string', '--to-template-id <id>', 'toTemplateId', 'target template version', required),
    option('body', 'json', '--from-template-ids <ids>', 'fromTemplateIds', `only deployments on these versions, a JSON list (${JSON_HINT}); default: every older version that may upgrade`),
    option('body', 'json', '--waves <waves>', 'waves', `cumulative waves, counts or percentages, e.g. '[1, "10%", "50%", "100%"]' (the default)`),
    option('body', 'json', '--max-failures <n>', 'maxFailures', 'failed deployments tolerated before the rollout halts (default 0)'),
    option('body', 'json', '--health-timeout-seconds <n>', 'healthTimeoutSeconds', 'how long an upgraded deployment has to become ready (default 600)'),
    option('body', 'json', '--pause-between-waves-seconds <n>', 'pauseBetweenWavesSeconds', 'wait between waves (default 0)'),
    option('body', 'string', '--approval <mode>', 'approval', 'auto, or manual: pause after each wave until resumed'),
  ]),
  command('list-rollouts', `GET ${PRODUCT}/rollouts`, "List a product's rollouts (admin)", page),
  command('get-rollout', `GET ${PRODUCT}/rollouts/{rolloutId}`, 'Show a rollout: status, current wave, counts per wave and its latest events (admin)'),
  command('pause-rollout', `POST ${PRODUCT}/rollouts/{rolloutId}/pause`, 'Pause a rollout before its next page or wave (admin)'),
  command('resume-rollout', `POST ${PRODUCT}/rollouts/{rolloutId}/resume`, 'Resume a paused rollout, or approve its next wave (admin)'),
  command('abort-rollout', `POST ${PRODUCT}/rollouts/{rolloutId}/abort`, 'Abort a rollout; deployments not yet upgraded stay as they are (admin)'),
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
