import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  };
  readonly kubeconfig: string | undefined;
  readonly helmBin: string;
  /** Sensitive: never logged. */
  readonly adminToken: string | undefined;
  /** Sensitive: 32-byte key for AES-256-GCM, never logged. */
  readonly encryptionKey: Buffer;
  readonly driftIntervalSeconds: number;
  readonly chartRoots: readonly string[];
  /** Registries (host:port) reached over plain HTTP, such as the local stack's. */
  readonly plainHttpRegistries: readonly string[];
  readonly bodyLimitBytes: number;
  readonly rateLimit: { readonly limit: number; readonly ttlSeconds: number };
  readonly logLevel: string;
  readonly helmTimeoutSeconds: number;
  readonly supervisorIntervalSeconds: number;
}

export const CAELUS_CONFIG = Symbol('CAELUS_CONFIG');
export const SENSITIVE_CONFIG_KEYS = ['adminToken', 'encryptionKey'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
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

function readEncryptionKey(env: Record<string, string | undefined>, root: string, problems: string[]): Buffer {
  const raw = env.CAELUS_ENCRYPTION_KEY;
  if (raw) {
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
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

  const config: CaelusConfig = {
    port: intIn(env, 'PORT', 3000, 0, 65535, problems),
    databaseUrl,
    temporal: {
      address: temporalAddress,
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      uiUrl: (env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/+$/, ''),
      taskQueue: env.CAELUS_TASK_QUEUE ?? 'caelus-deployments',
    },
    kubeconfig: env.KUBECONFIG || undefined,
    helmBin: env.HELM_BIN ?? 'helm',
    adminToken,
    encryptionKey: readEncryptionKey(env, root, problems),
    driftIntervalSeconds: intIn(env, 'CAELUS_DRIFT_INTERVAL', 300, 5, 86400, problems),
    chartRoots,
    plainHttpRegistries,
    bodyLimitBytes: intIn(env, 'CAELUS_BODY_LIMIT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024, problems),
    rateLimit: {
      limit: intIn(env, 'CAELUS_RATE_LIMIT', 600, 1, 1_000_000, problems),
      ttlSeconds: intIn(env, 'CAELUS_RATE_LIMIT_TTL', 60, 1, 3600, problems),
    },
    logLevel: env.LOG_LEVEL ?? 'info',
    helmTimeoutSeconds: intIn(env, 'CAELUS_HELM_TIMEOUT', 300, 10, 3600, problems),
    // 0 turns the sweep off (tests that run several workers on one database do).
    supervisorIntervalSeconds: intIn(env, 'CAELUS_SUPERVISOR_INTERVAL', 300, 0, 86400, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** A copy safe to log: sensitive fields replaced. */
export function describeConfig(config: CaelusConfig): Record<string, unknown> {
  return {
    ...config,
    adminToken: config.adminToken ? '[set]' : '[unset]',
    encryptionKey: '[set]',
    databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'),
  };
}
