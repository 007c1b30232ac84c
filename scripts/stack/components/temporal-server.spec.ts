import { PORTS } from '../versions';
import { sqlToolEnv, temporalServerEnv } from './temporal-server';

describe(temporalServerEnv.name, () => {
  const server = new URL('postgres://app%40ops:p%23ss@127.0.0.1:54329/postgres');

  it('points the server at the stack’s PostgreSQL, on loopback, with capped pools and the dev server’s frontend port', () => {
    const sut = temporalServerEnv(server, '/tmp/dc.yaml');
    expect(sut).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: '54329',
      POSTGRES_USER: 'app@ops',
      POSTGRES_PWD: 'p#ss',
      DBNAME: 'temporal',
      VISIBILITY_DBNAME: 'temporal_visibility',
      SQL_MAX_CONNS: '10',
      SQL_VIS_MAX_CONNS: '4',
      BIND_ON_IP: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(PORTS.temporalFrontend),
      DYNAMIC_CONFIG_FILE_PATH: '/tmp/dc.yaml',
    });
    // Every listener its own port.
    const ports = Object.entries(sut)
      .filter(([k]) => k.endsWith('_PORT') && k !== 'DB_PORT')
      .map(([, v]) => v);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('defaults the port and user as libpq does', () => {
    expect(sqlToolEnv(new URL('postgres://127.0.0.1/postgres'))).toEqual({ SQL_PLUGIN: 'postgres12', SQL_HOST: '127.0.0.1', SQL_PORT: '5432', SQL_USER: 'postgres', SQL_PASSWORD: '' });
  });
});
