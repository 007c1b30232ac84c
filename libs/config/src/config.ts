import { isAbsolute, join, resolve } from 'node:path';
import { readEncryptionKey, readPreviousKeys } from './encryption-keys';
import { readStackEnv, repoRoot } from './env-file';
import { Env, flagIn, intIn, limitIn, splitList } from './env-readers';
import { cidrsIn, readDomainSuffixes, readTrustedProxies } from './network-config';
import { readTemporalTls, TemporalTlsConfig } from './temporal-tls';

export type { TemporalTlsConfig } from './temporal-tls';

/** Validated configuration, read once at boot. */
export interface CaelusConfig {
  readonly port: number;
  readonly databaseUrl: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly uiUrl: string;
    readonly taskQueue: string;
    /** TLS to the Temporal frontend (mTLS when a client certificate is set); undefined means plaintext. */
    readonly tls: TemporalTlsConfig | undefined;
    /** Sensitive: Temporal Cloud API key, sent as a bearer token; never logged. */
    readonly apiKey: string | undefined;
  };
  /** Path of a kubeconfig file; undefined inside a pod, where the service account is used (`inCluster`). */
  readonly kubeconfig: string | undefined;
  /** True when running in a Kubernetes pod without KUBECONFIG: clients use the pod's service account. */
  readonly inCluster: boolean;
  /** Activities one worker process runs at once; helm processes among them are bounded by helmConcurrency. */
  readonly maxConcurrentActivities: number;
  /** Workflow tasks one worker process holds at once (polled, not yet completed); the rest wait in Temporal. */
  readonly maxConcurrentWorkflowTasks: number;
  /**
   * Workflows one worker process keeps in memory between their tasks (Temporal's sticky cache);
   * an evicted one is replayed from its history at its next task. Undefined: the SDK's default,
   * sized from the heap limit; 0: no cache.
   */
  readonly maxCachedWorkflows: number | undefined;
  readonly metrics: {
    /** The worker's HTTP listener for /metrics and its probes; 0 turns it off. */
    readonly workerPort: number;
    /** Loopback port of the Temporal SDK's Prometheus exporter, merged into the worker's /metrics; 0 turns it off. */
    readonly temporalPort: number;
  };
  readonly helmBin: string;
  /** HELM_* variables (cache, config and registry locations) passed to every helm process. */
  readonly helmEnv: Readonly<Record<string, string>>;
  /** Sensitive: never logged. */
  readonly adminToken: string | undefined;
  /** Sensitive: 32-byte key for AES-256-GCM, never logged. */
  readonly encryptionKey: Buffer;
  /** Sensitive: keys of an ongoing rotation; they still open values they sealed, never seal new ones. */
  readonly previousEncryptionKeys: readonly Buffer[];
  /** The periodic full drift check (the safety net behind the cluster watcher; 300 s without the watch). */
  readonly driftIntervalSeconds: number;
  /**
   * How often helm-controller reconciles a Flux-backend release on its own (its drift detection
   * included): the HelmRelease's `interval`. Defaults to the drift interval.
   */
  readonly fluxIntervalSeconds: number;
  /**
   * helm-controller's own drift detection on Caelus's HelmReleases (`spec.driftDetection.mode`):
   * `enabled` (it corrects drift on its reconciles too), `warn` (it reports drift, Caelus corrects
   * it), `disabled` (Caelus's checks alone find and correct drift; helm-controller's reconciles
   * skip the dry-run applies).
   */
  readonly fluxDriftDetection: FluxDriftDetection;
  /**
   * Drift checks read release objects' and release Secrets' metadata from watches (needs list and
   * watch on those kinds) instead of asking the API server for each object on every check, and the
   * cluster watcher signals a deployment's workflow when one of its objects changes.
   */
  readonly driftWatchCache: boolean;
  /** How long a ready deployment's workloads may stay unhealthy before it is degraded; 0 turns health assessment off. */
  readonly healthGraceSeconds: number;
  readonly chartRoots: readonly string[];
  /** Registries (host:port) reached over plain HTTP, such as the local stack's. */
  readonly plainHttpRegistries: readonly string[];
  readonly bodyLimitBytes: number;
  readonly rateLimit: { readonly limit: number; readonly ttlSeconds: number };
  /**
   * Proxies whose X-Forwarded-For is believed (Express 'trust proxy': addresses, CIDRs or
   * loopback/linklocal/uniquelocal); empty: the client is the TCP peer. Unauthenticated requests
   * are rate-limited by that client address.
   */
  readonly trustedProxies: readonly string[];
  /** Limits on live deployments; null: no limit. A user's own limit replaces `perUser`. */
  readonly deploymentQuota: { readonly perUser: number | null; readonly total: number | null };
  /** Domain names must lie under one of these (lower-case, no leading dot) unless a product has its own list; empty: any name. */
  readonly allowedDomainSuffixes: readonly string[];
  /** Seconds one /health result and one /metrics count of deployments answer every probe or scrape (0: each asks again). */
  readonly probeCacheSeconds: number;
  readonly logLevel: string;
  readonly helmTimeoutSeconds: number;
  /** Helm processes one worker runs at once; more helm steps wait for a slot (their activities keep heartbeating). */
  readonly helmConcurrency: number;
  readonly supervisorIntervalSeconds: number;
  /** A request (new generation or deletion) unanswered this long is signalled again by the supervisor. */
  readonly stuckAfterSeconds: number;
  /** How often a deployment that failed for good re-reads its desired state (in case a signal was lost). */
  readonly failedRecheckSeconds: number;
  /** How long a request waits for signalWithStart before answering anyway (the supervisor catches up). */
  readonly signalTimeoutMs: number;
  /** Egress of tenant namespaces: the internet minus denyCidrs (undefined: the built-in private ranges), plus allowCidrs. */
  readonly tenantEgress: { readonly denyCidrs: readonly string[] | undefined; readonly allowCidrs: readonly string[] };
  /** The ClusterRole every tenant namespace's ServiceAccount is bound to (CAELUS_TENANT_CLUSTER_ROLE). */
  readonly tenantClusterRole: string;
  /**
   * Tests only (CAELUS_TEST_SKIP_CONFINEMENT_CHECK=1, refused unless NODE_ENV=test): rendered
   * manifests are applied unchecked, to show that RBAC alone still confines a tenant.
   */
  readonly skipConfinementCheck: boolean;
}

export const CAELUS_CONFIG = Symbol('CAELUS_CONFIG');
export const SENSITIVE_CONFIG_KEYS = ['adminToken', 'encryptionKey', 'previousEncryptionKeys', 'temporal.apiKey', 'temporal.tls.clientCertPair.key'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the config from the process environment, with `.local/stack.env` filling in what
 * the environment does not set. Throws ConfigError listing every problem at once.
 */
export function loadConfig(processEnv: Record<string, string | undefined> = process.env): CaelusConfig {
  const root = repoRoot();
  const env: Env = { ...readStackEnv(root), ...processEnv };
  const problems: string[] = [];

  const databaseUrl = env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// URL');

  const chartRoots = splitList(env.CAELUS_CHART_ROOTS ?? join(root, 'charts'), /[,:]/).map((p) => (isAbsolute(p) ? p : resolve(root, p)));

  const adminToken = env.CAELUS_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) problems.push('CAELUS_ADMIN_TOKEN must be at least 16 characters');

  const temporalAddress = env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const plainHttpRegistries = splitList(env.CAELUS_PLAIN_HTTP_REGISTRIES ?? env.CAELUS_OCI_REGISTRY ?? '');

  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const tls = readTemporalTls(env, problems);
  const kubeconfig = env.KUBECONFIG || undefined;
  // 0 turns the sweep off (tests that run several workers on one database do).
  const supervisorIntervalSeconds = intIn(env, 'CAELUS_SUPERVISOR_INTERVAL', 300, 0, 86400, problems);
  const driftWatchCache = flagIn(env, 'CAELUS_DRIFT_WATCH', true, problems);
  // With the watch on, the cluster watcher signals a deployment when its objects change, and this
  // periodic full check is only the safety net: hourly by default.
  const driftIntervalSeconds = intIn(env, 'CAELUS_DRIFT_INTERVAL', driftWatchCache ? 3600 : 300, 5, 86400, problems);

  // Few, so a burst waits in Temporal's queue rather than in the worker, where the 10 s workflow
  // task timeout runs (and a task holding a local activity, a drift or health check, stays
  // open): at the SDK's 40, 200 creates at once timed out 255 tasks on 2 cores, at 8 none.
  const maxConcurrentWorkflowTasks = intIn(env, 'CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 8, 2, 1000, problems);
  const config: CaelusConfig = {
    port: intIn(env, 'PORT', 3000, 0, 65535, problems),
    databaseUrl,
    temporal: {
      address: temporalAddress,
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      uiUrl: (env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/+$/, ''),
      taskQueue: env.CAELUS_TASK_QUEUE ?? 'caelus-deployments',
      // An API key without TLS settings gets TLS (Temporal Cloud); TEMPORAL_TLS=false keeps plaintext.
      tls: tls === false ? undefined : (tls ?? (apiKey ? {} : undefined)),
      apiKey,
    },
    kubeconfig,
    inCluster: !kubeconfig && Boolean(env.KUBERNETES_SERVICE_HOST),
    // Helm steps waiting for one of the helmConcurrency slots hold an activity slot: keep plenty,
    // so drift checks and database writes do not queue behind them.
    maxConcurrentActivities: intIn(env, 'CAELUS_WORKER_MAX_CONCURRENT_ACTIVITIES', 200, 1, 1000, problems),
    maxConcurrentWorkflowTasks,
    maxCachedWorkflows: cachedWorkflows(env, maxConcurrentWorkflowTasks, problems),
    metrics: {
      workerPort: intIn(env, 'CAELUS_WORKER_METRICS_PORT', 9464, 0, 65535, problems),
      temporalPort: intIn(env, 'CAELUS_TEMPORAL_METRICS_PORT', 9465, 0, 65535, problems),
    },
    helmBin: env.HELM_BIN ?? 'helm',
    helmEnv: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('HELM_') && e[0] !== 'HELM_BIN' && e[1] !== undefined)),
    adminToken,
    encryptionKey: readEncryptionKey(env, root, problems),
    previousEncryptionKeys: readPreviousKeys(env, problems),
    driftIntervalSeconds,
    fluxIntervalSeconds: intIn(env, 'CAELUS_FLUX_INTERVAL', driftIntervalSeconds, 5, 86400, problems),
    fluxDriftDetection: fluxDriftDetectionIn(env, problems),
    driftWatchCache,
    healthGraceSeconds: intIn(env, 'CAELUS_HEALTH_GRACE', 120, 0, 86400, problems),
    chartRoots,
    plainHttpRegistries,
    bodyLimitBytes: intIn(env, 'CAELUS_BODY_LIMIT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024, problems),
    rateLimit: {
      limit: intIn(env, 'CAELUS_RATE_LIMIT', 600, 1, 1_000_000, problems),
      ttlSeconds: intIn(env, 'CAELUS_RATE_LIMIT_TTL', 60, 1, 3600, problems),
    },
    trustedProxies: readTrustedProxies(env, problems),
    deploymentQuota: {
      perUser: limitIn(env, 'CAELUS_MAX_DEPLOYMENTS_PER_USER', problems),
      total: limitIn(env, 'CAELUS_MAX_DEPLOYMENTS', problems),
    },
    allowedDomainSuffixes: readDomainSuffixes(env, problems),
    probeCacheSeconds: intIn(env, 'CAELUS_PROBE_CACHE_SECONDS', 5, 0, 300, problems),
    logLevel: env.LOG_LEVEL ?? 'info',
    helmTimeoutSeconds: intIn(env, 'CAELUS_HELM_TIMEOUT', 300, 10, 3600, problems),
    helmConcurrency: intIn(env, 'CAELUS_HELM_CONCURRENCY', 10, 1, 1000, problems),
    supervisorIntervalSeconds,
    // Defaults to half a supervisor interval: a lost signal is sent again within 1.5 intervals.
    stuckAfterSeconds: intIn(env, 'CAELUS_STUCK_AFTER', Math.max(Math.round(supervisorIntervalSeconds / 2), 5), 5, 86400, problems),
    failedRecheckSeconds: intIn(env, 'CAELUS_FAILED_RECHECK_INTERVAL', 900, 10, 86400, problems),
    signalTimeoutMs: intIn(env, 'CAELUS_SIGNAL_TIMEOUT_MS', 15000, 100, 120000, problems),
    tenantEgress: {
      denyCidrs: cidrsIn(env, 'CAELUS_TENANT_EGRESS_DENY_CIDRS', problems),
      allowCidrs: cidrsIn(env, 'CAELUS_TENANT_EGRESS_ALLOW_CIDRS', problems) ?? [],
    },
    tenantClusterRole: env.CAELUS_TENANT_CLUSTER_ROLE || 'caelus-tenant',
    skipConfinementCheck: readSkipConfinementCheck(env, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * Only the encryption keys, as loadConfig reads them: for tools that need nothing else, such as
 * the migration that binds sealed values. Throws ConfigError when a key is malformed.
 */
export function loadEncryptionKeys(processEnv: Record<string, string | undefined> = process.env): Pick<CaelusConfig, 'encryptionKey' | 'previousEncryptionKeys'> {
  const root = repoRoot();
  const env: Env = { ...readStackEnv(root), ...processEnv };
  const problems: string[] = [];
  const keys = { encryptionKey: readEncryptionKey(env, root, problems), previousEncryptionKeys: readPreviousKeys(env, problems) };
  if (problems.length) throw new ConfigError(problems);
  return keys;
}

export const FLUX_DRIFT_DETECTION_MODES = ['enabled', 'warn', 'disabled'] as const;
export type FluxDriftDetection = (typeof FLUX_DRIFT_DETECTION_MODES)[number];

function fluxDriftDetectionIn(env: Env, problems: string[]): FluxDriftDetection {
  const key = 'CAELUS_FLUX_DRIFT_DETECTION';
  const raw = env[key];
  if (raw === undefined || raw === '') return 'enabled';
  if ((FLUX_DRIFT_DETECTION_MODES as readonly string[]).includes(raw)) return raw as FluxDriftDetection;
  problems.push(`${key} must be one of ${FLUX_DRIFT_DETECTION_MODES.join(', ')} (got "${raw}")`);
  return 'enabled';
}

/**
 * CAELUS_WORKER_MAX_CACHED_WORKFLOWS: unset for the SDK's default; 0 for no cache; otherwise at
 * least the workflow tasks held at once (the SDK would lower those to the cache's size, quietly).
 */
function cachedWorkflows(env: Env, workflowTasks: number, problems: string[]): number | undefined {
  const key = 'CAELUS_WORKER_MAX_CACHED_WORKFLOWS';
  if (env[key] === undefined || env[key] === '') return undefined;
  const n = intIn(env, key, 0, 0, 1_000_000, problems);
  if (n !== 0 && n < workflowTasks) {
    problems.push(`${key} must be 0 (no cache) or at least CAELUS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${workflowTasks}) (got "${env[key]}")`);
    return undefined;
  }
  return n;
}

/** Only a test run may switch the confinement check off; anywhere else the setting is a config error. */
function readSkipConfinementCheck(env: Env, problems: string[]): boolean {
  const skip = flagIn(env, 'CAELUS_TEST_SKIP_CONFINEMENT_CHECK', false, problems);
  if (skip && env.NODE_ENV !== 'test') {
    problems.push('CAELUS_TEST_SKIP_CONFINEMENT_CHECK is for tests only: it is refused unless NODE_ENV=test');
    return false;
  }
  return skip;
}

/** A copy safe to log: sensitive fields replaced. */
export function describeConfig(config: CaelusConfig): Record<string, unknown> {
  const tls = config.temporal.tls;
  return {
    ...config,
    temporal: {
      ...config.temporal,
      apiKey: config.temporal.apiKey ? '[set]' : '[unset]',
      tls: tls ? { serverNameOverride: tls.serverNameOverride ?? null, customCa: Boolean(tls.serverRootCACertificate), clientCertificate: Boolean(tls.clientCertPair) } : false,
    },
    adminToken: config.adminToken ? '[set]' : '[unset]',
    encryptionKey: '[set]',
    previousEncryptionKeys: `[${config.previousEncryptionKeys.length} set]`,
    databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'),
  };
}
