import { readFileSync } from 'node:fs';
import { Env } from './env-readers';

/** The shape of Temporal's TLSConfig, kept here so the config has no Temporal dependency. */
export interface TemporalTlsConfig {
  readonly serverNameOverride?: string;
  readonly serverRootCACertificate?: Buffer;
  /** Sensitive: the key is never logged. */
  readonly clientCertPair?: { readonly crt: Buffer; readonly key: Buffer };
}

function readPem(env: Env, key: string, problems: string[]): Buffer | undefined {
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
export function readTemporalTls(env: Env, problems: string[]): TemporalTlsConfig | false | undefined {
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
