import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { readStackEnv, repoRoot } from './env-file';

/** Validated configuration, read once at boot (STYLE.md #5). */
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
  readonly driftIntervalSeconds: number;
  /**
   * Drift checks read release objects' and release Secrets' metadata from watches (needs list and
   * watch on those kinds) instead of asking the API server for each object on every check.
   */
  readonly driftWatchCache: boolean;
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

/** The shape of Temporal's TLSConfig, kept here so the config has no Temporal dependency. */
export interface TemporalTlsConfig {
  readonly serverNameOverride?: string;
  readonly serverRootCACertificate?: Buffer;
  /** Sensitive: the key is never logged. */
  readonly clientCertPair?: { readonly crt: Buffer; readonly key: Buffer };
}

export const CAELUS_CONFIG = Symbol('CAELUS_CONFIG');
export const SENSITIVE_CONFIG_KEYS = ['adminToken', 'encryptionKey', 'previousEncryptionKeys', 'temporal.apiKey', 'temporal.tls.clientCertPair.key'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function flagIn(env: Record<string, string | undefined>, key: string, def: boolean, problems: string[]): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (['true', '1'].includes(raw)) return true;
  if (['false', '0'].includes(raw)) return false;
  problems.push(`${key} must be true or false (got "${raw}")`);
  return def;
}

function intIn(env: Record<string, string | undefined>, key: string, def: number, min: number, max: number, problems: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key} must be an integer between ${min} and ${max} (got "${raw}")`);
    return def;
  }
  return n;
}

/** A comma-separated list of CIDRs (network addresses, IPv4 or IPv6); undefined when unset or empty. */
function cidrsIn(env: Record<string, string | undefined>, key: string, problems: string[]): string[] | undefined {
  const list = (env[key] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const cidr of list) {
    const problem = cidrProblem(cidr);
    if (problem) problems.push(`${key}: ${cidr} ${problem}`);
  }
  return list.length ? list : undefined;
}

/** Why a string is not a CIDR the Kubernetes API server takes as an ipBlock, or undefined. */
function cidrProblem(cidr: string): string | undefined {
  const [address, prefixText, ...rest] = cidr.split('/');
  const v6 = isIPv6(address);
  const bits = v6 ? 128 : 32;
  if (rest.length || !prefixText || !/^\d{1,3}$/.test(prefixText) || !(v6 || isIPv4(address)) || Number(prefixText) > bits) {
    return 'is not a CIDR such as 10.0.0.0/8 or fc00::/7';
  }
  const value = v6 ? ipv6ToBigInt(address) : address.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n);
  const hostBits = BigInt(bits - Number(prefixText));
  if (value & ((1n << hostBits) - 1n)) return 'has host bits set (give the network address)';
  return undefined;
}

function ipv6ToBigInt(address: string): bigint {
  // A dotted IPv4 tail (::ffff:10.0.0.1) is two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted
    ? address.slice(0, dotted.index) + [((+dotted[1] << 8) | +dotted[2]).toString(16), ((+dotted[3] << 8) | +dotted[4]).toString(16)].join(':')
    : address;
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An optional limit: unset or empty means none. */
function limitIn(env: Record<string, string | undefined>, key: string, problems: string[]): number | null {
  if (env[key] === undefined || env[key] === '') return null;
  return intIn(env, key, 0, 0, 1_000_000, problems);
}

function listIn(env: Record<string, string | undefined>, key: string): string[] {
  return (env[key] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function readTrustedProxies(env: Record<string, string | undefined>, problems: string[]): string[] {
  const entries = listIn(env, 'CAELUS_TRUSTED_PROXIES');
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const ok = PROXY_NAMES.includes(e) || (family !== 0 && extra === undefined && (bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= max)));
    if (!ok) problems.push(`CAELUS_TRUSTED_PROXIES entries must be IP addresses, CIDRs or ${PROXY_NAMES.join('/')} (got "${e}")`);
  }
  return entries;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `apps.example.com`, `.apps.example.com` and `*.apps.example.com` all mean "names under apps.example.com". */
function readDomainSuffixes(env: Record<string, string | undefined>, problems: string[]): string[] {
  return listIn(env, 'CAELUS_ALLOWED_DOMAIN_SUFFIXES').map((raw) => {
    const s = raw.toLowerCase().replace(/^\*?\./, '');
    if (s.length > 253 || !s.split('.').every((l) => DNS_LABEL.test(l))) problems.push(`CAELUS_ALLOWED_DOMAIN_SUFFIXES entries must be host names such as apps.example.com (got "${raw}")`);
    return s;
  });
}

const decodeKey = (raw: string) => (/^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64'));

/** CAELUS_PREVIOUS_ENCRYPTION_KEYS: comma-separated, each like CAELUS_ENCRYPTION_KEY. */
function readPreviousKeys(env: Record<string, string | undefined>, problems: string[]): Buffer[] {
  const keys = (env.CAELUS_PREVIOUS_ENCRYPTION_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(decodeKey);
  if (keys.some((k) => k.length !== 32)) problems.push('CAELUS_PREVIOUS_ENCRYPTION_KEYS must list 32-byte keys, as 64 hex characters or base64, separated by commas');
  return keys.filter((k) => k.length === 32);
}

function readEncryptionKey(env: Record<string, string | undefined>, root: string, problems: string[]): Buffer {
  const raw = env.CAELUS_ENCRYPTION_KEY;
  if (raw) {
    const key = decodeKey(raw);
    if (key.length !== 32) problems.push('CAELUS_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
    return key;
  }
  if (env.NODE_ENV === 'production') {
    problems.push('CAELUS_ENCRYPTION_KEY is required in production');
    return Buffer.alloc(32);
  }
  // A dev run gets a key generated once into .local/, so restarts can still decrypt.
  const file = join(root, '.local', 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(join(root, '.local'), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

function readPem(env: Record<string, string | undefined>, key: string, problems: string[]): Buffer | undefined {
  const file = env[key];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    problems.push(`${key} names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * TLS from TEMPORAL_TLS* (file paths, as the temporal CLI names them). Any TLS setting turns TLS
 * on; an API key alone does too (the SDK's default), unless TEMPORAL_TLS=false says otherwise.
 */
function readTemporalTls(env: Record<string, string | undefined>, problems: string[]): TemporalTlsConfig | false | undefined {
  const flag = env.TEMPORAL_TLS?.trim().toLowerCase();
  if (flag && !['true', 'false', '1', '0'].includes(flag)) problems.push(`TEMPORAL_TLS must be true or false (got "${env.TEMPORAL_TLS}")`);
  const crt = readPem(env, 'TEMPORAL_TLS_CERT', problems);
  const key = readPem(env, 'TEMPORAL_TLS_KEY', problems);
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (mTLS needs both)');
  const ca = readPem(env, 'TEMPORAL_TLS_CA', problems);
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  const anySetting = Boolean(env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_KEY || env.TEMPORAL_TLS_CA || serverName);
  if (flag === 'false' || flag === '0') {
    if (anySetting) problems.push('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME');
    return false;
  }
  if (!anySetting && flag !== 'true' && flag !== '1') return undefined;
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

/**
 * Builds the config from the process environment, with `.local/stack.env` filling in what
 * the environment does not set. Throws ConfigError listing every problem at once.
 */
export function loadConfig(processEnv: Record<string, string | undefined> = process.env): CaelusConfig {
  const root = repoRoot();
  const env: Record<string, string | undefined> = { ...readStackEnv(root), ...processEnv };
  const problems: string[] = [];

  const databaseUrl = env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// URL');

  const chartRoots = (env.CAELUS_CHART_ROOTS ?? join(root, 'charts'))
    .split(/[,:]/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (isAbsolute(p) ? p : resolve(root, p)));

  const adminToken = env.CAELUS_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) problems.push('CAELUS_ADMIN_TOKEN must be at least 16 characters');

  const temporalAddress = env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const plainHttpRegistries = (env.CAELUS_PLAIN_HTTP_REGISTRIES ?? env.CAELUS_OCI_REGISTRY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const tls = readTemporalTls(env, problems);
  const kubeconfig = env.KUBECONFIG || undefined;
  // 0 turns the sweep off (tests that run several workers on one database do).
  const supervisorIntervalSeconds = intIn(env, 'CAELUS_SUPERVISOR_INTERVAL', 300, 0, 86400, problems);

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
    metrics: {
      workerPort: intIn(env, 'CAELUS_WORKER_METRICS_PORT', 9464, 0, 65535, problems),
      temporalPort: intIn(env, 'CAELUS_TEMPORAL_METRICS_PORT', 9465, 0, 65535, problems),
    },
    helmBin: env.HELM_BIN ?? 'helm',
    helmEnv: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('HELM_') && e[0] !== 'HELM_BIN' && e[1] !== undefined)),
    adminToken,
    encryptionKey: readEncryptionKey(env, root, problems),
    previousEncryptionKeys: readPreviousKeys(env, problems),
    driftIntervalSeconds: intIn(env, 'CAELUS_DRIFT_INTERVAL', 300, 5, 86400, problems),
    driftWatchCache: flagIn(env, 'CAELUS_DRIFT_WATCH', true, problems),
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
  const env: Record<string, string | undefined> = { ...readStackEnv(root), ...processEnv };
  const problems: string[] = [];
  const keys = { encryptionKey: readEncryptionKey(env, root, problems), previousEncryptionKeys: readPreviousKeys(env, problems) };
  if (problems.length) throw new ConfigError(problems);
  return keys;
}

/** Only a test run may switch the confinement check off; anywhere else the setting is a config error. */
function readSkipConfinementCheck(env: Record<string, string | undefined>, problems: string[]): boolean {
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
      tls: tls
        ? { serverNameOverride: tls.serverNameOverride ?? null, customCa: Boolean(tls.serverRootCACertificate), clientCertificate: Boolean(tls.clientCertPair) }
        : false,
    },
    adminToken: config.adminToken ? '[set]' : '[unset]',
    encryptionKey: '[set]',
    previousEncryptionKeys: `[${config.previousEncryptionKeys.length} set]`,
    databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'),
  };
}
