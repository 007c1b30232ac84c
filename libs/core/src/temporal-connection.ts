import type { TLSConfig } from '@temporalio/client';
import { CaelusConfig } from '../../config/src';

/** What both Temporal connections (the client's and the worker's native one) need to reach the frontend. */
export interface TemporalConnectionOptions {
  address: string;
  /** Always explicit: the SDK would otherwise turn TLS on by itself when an API key is set. */
  tls: TLSConfig | false;
  apiKey?: string;
}

/** Address, TLS (mTLS when a client certificate is configured) and API key from the config. */
export function temporalConnectionOptions(config: Pick<CaelusConfig, 'temporal'>): TemporalConnectionOptions {
  const { address, tls, apiKey } = config.temporal;
  return { address, tls: tls ?? false, ...(apiKey ? { apiKey } : {}) };
}
