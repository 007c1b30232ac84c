import { temporalConnectionOptions } from './temporal-connection';

describe(temporalConnectionOptions.name, () => {
  const temporal = { address: 'temporal:7233', namespace: 'default', uiUrl: 'http://ui', taskQueue: 'q' };

  it('passes TLS explicitly, so an API key never switches it on behind the config', () => {
    expect(temporalConnectionOptions({ temporal: { ...temporal, tls: undefined, apiKey: undefined } })).toEqual({ address: 'temporal:7233', tls: false });
    expect(temporalConnectionOptions({ temporal: { ...temporal, tls: undefined, apiKey: 'k' } })).toEqual({ address: 'temporal:7233', tls: false, apiKey: 'k' });
  });

  it('carries the mTLS material and the API key', () => {
    const tls = { serverNameOverride: 'temporal.internal', clientCertPair: { crt: Buffer.from('c'), key: Buffer.from('k') } };
    expect(temporalConnectionOptions({ temporal: { ...temporal, tls, apiKey: 'k' } })).toEqual({ address: 'temporal:7233', tls, apiKey: 'k' });
  });
});
