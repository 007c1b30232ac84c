/**
 * The environment of a child process (helm and anything else Caelus runs) is built from an
 * allow-list, never inherited whole: the worker's own environment holds the encryption keys, the
 * database URL, the admin token and Temporal credentials, and a child (or a helm plugin, or a
 * chart's post-renderer) has no business seeing them.
 */

/** Inherited as they are: where tools, home, temporary files, locale and time zone are. */
const ALLOWED_NAMES = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LANGUAGE',
  'TZ',
  // Helm's default cache, config and data locations when HELM_*_HOME are not set.
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  // Extra CA certificates for registries and the API server (Go reads these).
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Go's HTTP client honours both spellings.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  // Inside a pod, helm's in-cluster configuration finds the API server through these.
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
]);

/** Locale categories, and helm's own settings (cache, config, data, registry config, plugins). */
const ALLOWED_PREFIXES = ['LC_', 'HELM_'];

/** Names a caller must never hand to a child, even on purpose. */
const FORBIDDEN = /^(CAELUS_|TEMPORAL_|DATABASE_URL$|PG)/;

export interface ChildEnvOptions {
  /** Set as KUBECONFIG when given; an inherited KUBECONFIG is never passed on. */
  kubeconfig?: string;
  /** Set for this child on top of the allowed inherited variables (e.g. HELM_CACHE_HOME). */
  extra?: Readonly<Record<string, string>>;
}

export const isInheritable = (name: string): boolean => !FORBIDDEN.test(name) && (ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p)));

/**
 * The environment for a child process: the allowed variables of `inherited` (the worker's own
 * environment by default), then `extra`, then KUBECONFIG when configured. Throws when `extra`
 * names a Caelus, Temporal or database variable: that would be a programming error.
 */
export function childEnv(options: ChildEnvOptions = {}, inherited: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && isInheritable(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) {
    if (FORBIDDEN.test(name)) throw new TypeError(`${name} must not be passed to a child process`);
    env[name] = value;
  }
  if (options.kubeconfig) env.KUBECONFIG = options.kubeconfig;
  return env;
}
