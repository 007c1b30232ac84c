import { parse } from 'yaml';
import { PORTS } from '../versions';
import { sqlToolEnv, temporalDynamicConfig, temporalServerConfig, temporalUiConfig } from './temporal-server';

describe(temporalServerConfig.name, () => {
  const server = new URL('postgres://app%40ops:p%23ss@127.0.0.1:54329/postgres');

  it('points the server at the stack’s PostgreSQL, on loopback, with capped pools and the dev server’s frontend port, without the password', () => {
    const text = temporalServerConfig(server, '/tmp/dc.yaml');
    expect(text.split('\n')[0]).toContain('enable-template');
    expect(text).not.toContain('p#ss');
    // As the server renders it: sprig's env and quote.
    const sut = parse(text.replace(/\{\{ env "(\w+)" \| quote \}\}/g, (_, name: string) => JSON.stringify(name === 'CAELUS_TEMPORAL_DB_PASSWORD' ? 'p#ss' : '')));
    const stores = sut.persistence.datastores;
    expect(stores[sut.persistence.defaultStore].sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'temporal',
      connectAddr: '127.0.0.1:54329',
      user: 'app@ops',
      password: 'p#ss',
      maxConns: 10,
    });
    expect(stores[sut.persistence.visibilityStore].sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal_visibility', maxConns: 4 });
    expect(sut.services.frontend.rpc).toMatchObject({ grpcPort: PORTS.temporalFrontend, bindOnIP: '127.0.0.1' });
    expect(sut.dynamicConfigClient.filepath).toBe('/tmp/dc.yaml');
    // Every listener its own port.
    const ports = [
      ...Object.values(sut.services as Record<string, { rpc: Record<string, unknown> }>).flatMap((s) => [s.rpc.grpcPort, s.rpc.membershipPort, s.rpc.httpPort].filter((p) => p !== undefined)),
      Number(String(sut.global.metrics.prometheus.listenAddress).split(':')[1]),
    ];
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('defaults the port and user as libpq does', () => {
    expect(sqlToolEnv(new URL('postgres://127.0.0.1/postgres'))).toEqual({ SQL_PLUGIN: 'postgres12', SQL_HOST: '127.0.0.1', SQL_PORT: '5432', SQL_USER: 'postgres', SQL_PASSWORD: '' });
  });
});

describe(temporalDynamicConfig.name, () => {
  it('turns on the priority matcher writing each task queue to one partition, and immediate search attributes, each a value without constraints', () => {
    expect(parse(temporalDynamicConfig())).toEqual({
      'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
      'matching.useNewMatcher': [{ value: true, constraints: {} }],
      'matching.numTaskqueueWritePartitions': [{ value: 1, constraints: {} }],
    });
  });
});

describe(temporalUiConfig.name, () => {
  it('serves the UI on loopback, on the dev server’s UI port, against the stack’s frontend', () => {
    expect(parse(temporalUiConfig())).toMatchObject({
      temporalGrpcAddress: `127.0.0.1:${PORTS.temporalFrontend}`,
      host: '127.0.0.1',
      port: PORTS.temporalUi,
      enableUi: true,
      defaultNamespace: 'default',
    });
  });
});
