import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { LOCAL_DIR, logFile } from '../paths';
import { httpStatus, isAlive, readPid, run, spawnDetached, stopRecorded, tail, waitFor } from '../proc';
import { toolBinary } from '../tools';
import { HOST, PORTS, TEMPORAL_DYNAMIC_CONFIG, TEMPORAL_NAMESPACE, TEMPORAL_SEARCH_ATTRIBUTES, TEMPORAL_SERVER_DATABASES, TEMPORAL_SERVER_POOLS } from '../versions';
import { answers } from './postgres';
import { Component, ComponentError, Health, Log } from './types';

/** The same name as the dev server's component: one Temporal runs at a time, on the same frontend port. */
const NAME = 'temporal';
const ADDRESS = `${HOST}:${PORTS.temporalFrontend}`;
/** The Web UI (temporal-ui-server), a process of its own, where the dev server serves its UI. */
const UI_NAME = 'temporal-ui';
const UI_URL = `http://${HOST}:${PORTS.temporalUi}`;

/** Where the server's schemas are, inside the binary (temporal-sql-tool embeds them). */
const SCHEMAS = { store: 'postgresql/v12/temporal', visibility: 'postgresql/v12/visibility' } as const;

/** The stack's PostgreSQL as this component needs it: its server URL once it is up. */
export interface PostgresServer {
  serverUrl(): string | undefined;
}

/**
 * `--temporal server`: a production Temporal server (go.temporal.io/server, the services in one
 * process) on the stack's PostgreSQL, with the default store and SQL visibility in two databases
 * of their own, instead of the CLI's dev server on SQLite. Same frontend address, namespace and
 * search attributes, so everything above it runs unchanged; the Web UI (temporal-ui-server, built with the
 * CLI) on the dev server's UI port.
 */
export class TemporalServerComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);
  private readonly dir = path.join(LOCAL_DIR, 'temporal-server');

  constructor(private readonly postgres: PostgresServer) {}

  private cli(args: string[], timeoutMs = 20_000) {
    return run(toolBinary('temporal'), [...args, '--address', ADDRESS], { timeoutMs });
  }

  /** The store of whatever serves on the frontend port: 'postgres12' for this server, 'sqlite' for the dev server; undefined when nothing serves. */
  private async store(): Promise<string | undefined> {
    const res = await this.cli(['operator', 'cluster', 'describe', '-o', 'json']);
    if (res.code !== 0) return undefined;
    try {
      return (JSON.parse(res.stdout) as { persistenceStore?: string }).persistenceStore ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }

  private async namespaceExists(): Promise<boolean> {
    return (await this.cli(['operator', 'namespace', 'describe', '--namespace', TEMPORAL_NAMESPACE])).code === 0;
  }

  private async missingSearchAttributes(): Promise<string[]> {
    const res = await this.cli(['operator', 'search-attribute', 'list', '--namespace', TEMPORAL_NAMESPACE, '-o', 'json']);
    if (res.code !== 0) throw new Error(`listing search attributes failed: ${res.stderr.trim()}`);
    return TEMPORAL_SEARCH_ATTRIBUTES.filter((sa) => !res.stdout.includes(`"${sa}"`));
  }

  async health(): Promise<Health> {
    const store = await this.store();
    if (!store) return { ok: false, detail: `frontend ${ADDRESS} not serving` };
    if (store !== 'postgres12') return { ok: false, detail: `${ADDRESS} is served by a Temporal on ${store}, not the server profile (npm run stack:down, then stack:up -- --temporal server)` };
    if (!(await this.namespaceExists())) return { ok: false, detail: `namespace ${TEMPORAL_NAMESPACE} missing` };
    const missing = await this.missingSearchAttributes().catch((e: Error) => [e.message]);
    if (missing.length) return { ok: false, detail: `missing search attributes: ${missing.join(', ')}` };
    if ((await httpStatus(UI_URL)) !== 200) return { ok: false, detail: `Web UI ${UI_URL} not answering` };
    return { ok: true, detail: `${ADDRESS}, temporal-server on PostgreSQL (${TEMPORAL_SERVER_DATABASES.store}, ${TEMPORAL_SERVER_DATABASES.visibility}), UI ${UI_URL}` };
  }

  async up(log: Log): Promise<void> {
    const store = await this.store();
    if (store && store !== 'postgres12') {
      throw new ComponentError(NAME, this.logFile, `${ADDRESS} is already served by a Temporal on ${store} (the dev server?): run npm run stack:down first`);
    }
    if (!store) {
      const server = await this.waitForPostgres();
      await this.migrate(server, log);
      const pid = readPid(NAME);
      if (pid === undefined || !isAlive(pid)) {
        log(`temporal: starting temporal-server ${path.basename(toolBinary('temporal-server'))} on PostgreSQL`);
        fs.mkdirSync(this.dir, { recursive: true });
        spawnDetached(NAME, toolBinary('temporal-server'), ['--root', this.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], this.logFile, {
          env: this.serverEnv(server),
        });
      }
      try {
        await waitFor('the Temporal frontend', async () => (await this.store()) === 'postgres12', 120_000, 1000, NAME);
      } catch (err) {
        throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
      }
    }
    // Unlike start-dev, the server creates no namespace.
    if (!(await this.namespaceExists())) {
      log(`temporal: creating namespace ${TEMPORAL_NAMESPACE}`);
      const res = await this.cli(['operator', 'namespace', 'create', '--namespace', TEMPORAL_NAMESPACE, '--retention', '72h']);
      if (res.code !== 0 && !/already/i.test(res.stderr)) throw new ComponentError(NAME, this.logFile, `creating namespace ${TEMPORAL_NAMESPACE} failed: ${res.stderr.trim()}`);
      await waitFor(`namespace ${TEMPORAL_NAMESPACE}`, () => this.namespaceExists(), 30_000);
    }
    // A new namespace reaches the services' namespace caches a few seconds later.
    await waitFor(
      `namespace ${TEMPORAL_NAMESPACE} in every service`,
      async () =>
        await this.missingSearchAttributes().then(
          () => true,
          () => false,
        ),
      60_000,
      1000,
    );
    for (const sa of await this.missingSearchAttributes()) {
      log(`temporal: registering search attribute ${sa}`);
      const res = await this.cli(['operator', 'search-attribute', 'create', '--namespace', TEMPORAL_NAMESPACE, '--name', sa, '--type', 'Keyword']);
      if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `registering ${sa} failed: ${res.stderr.trim()}`);
    }
    await this.upWebUi(log);
  }

  /** The Web UI against the frontend, on the port the dev server's UI uses. */
  private async upWebUi(log: Log): Promise<void> {
    if ((await httpStatus(UI_URL)) === 200) return;
    const pid = readPid(UI_NAME);
    if (pid === undefined || !isAlive(pid)) {
      const root = path.join(this.dir, 'ui');
      fs.mkdirSync(path.join(root, 'config'), { recursive: true });
      fs.writeFileSync(path.join(root, 'config', 'development.yaml'), temporalUiConfig());
      log(`temporal: starting the Web UI on ${UI_URL}`);
      spawnDetached(UI_NAME, toolBinary('temporal-ui-server'), ['--root', root, '--config', 'config', '--env', 'development', 'start'], this.logFile, {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      });
    }
    try {
      await waitFor('the Temporal Web UI', async () => (await httpStatus(UI_URL)) === 200, 30_000, 500, UI_NAME);
    } catch (err) {
      throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
    }
  }

  /** The components start side by side: wait until the stack's PostgreSQL is up (it may be installing). */
  private async waitForPostgres(): Promise<URL> {
    let url: string | undefined;
    await waitFor('the stack’s PostgreSQL', async () => (url = this.postgres.serverUrl()) !== undefined && (await answers(url)), 900_000, 1000);
    return new URL(url!);
  }

  /** Creates the two databases when missing and brings their schemas up to this version (idempotent). */
  private async migrate(server: URL, log: Log): Promise<void> {
    const client = new Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
    await client.connect();
    const fresh: string[] = [];
    try {
      const existing = new Set((await client.query<{ datname: string }>('select datname from pg_database')).rows.map((r) => r.datname));
      for (const db of Object.values(TEMPORAL_SERVER_DATABASES)) {
        if (existing.has(db)) continue;
        // Identifiers cannot be parameters; these are constants of this file.
        await client.query(`CREATE DATABASE "${db}"`);
        fresh.push(db);
      }
    } finally {
      await client.end();
    }
    for (const [kind, db] of Object.entries(TEMPORAL_SERVER_DATABASES) as [keyof typeof SCHEMAS, string][]) {
      const started = Date.now();
      const sql = (args: string[]) => this.sqlTool(server, db, args);
      if (fresh.includes(db)) await sql(['setup-schema', '-v', '0.0']);
      await sql(['update-schema', '--schema-name', SCHEMAS[kind]]);
      if (fresh.includes(db)) log(`temporal: database ${db} created and migrated (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
  }

  private async sqlTool(server: URL, db: string, args: string[]): Promise<void> {
    const res = await run(toolBinary('temporal-sql-tool'), ['--db', db, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...sqlToolEnv(server) },
      timeoutMs: 120_000,
    });
    if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `temporal-sql-tool --db ${db} ${args.join(' ')} failed: ${(res.stderr || res.stdout).trim().slice(-2000)}`);
  }

  /** Writes `<dir>/config/development.yaml` (no secret in it) and returns the environment its template reads. */
  private serverEnv(server: URL): Record<string, string> {
    const dynamicConfig = path.join(this.dir, 'dynamicconfig.yaml');
    fs.writeFileSync(dynamicConfig, temporalDynamicConfig());
    fs.mkdirSync(path.join(this.dir, 'config'), { recursive: true });
    fs.writeFileSync(path.join(this.dir, 'config', 'development.yaml'), temporalServerConfig(server, dynamicConfig));
    return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', [PASSWORD_ENV]: connection(server).password };
  }

  async down(): Promise<string> {
    await stopRecorded(UI_NAME);
    return (await stopRecorded(NAME)) ? 'stopped' : 'was not running (from this stack)';
  }

  /** Drops the server's two databases (after down): a reset starts with empty histories. */
  async reset(): Promise<string> {
    const url = this.postgres.serverUrl();
    if (!url) return `PostgreSQL not running: databases ${Object.values(TEMPORAL_SERVER_DATABASES).join(', ')} stay (the stack's own cluster is removed with its data)`;
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      for (const db of Object.values(TEMPORAL_SERVER_DATABASES)) await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      return `dropped ${Object.values(TEMPORAL_SERVER_DATABASES).join(', ')}`;
    } catch (err) {
      return `could not drop its databases: ${(err as Error).message}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  endpoints(): Array<[string, string]> {
    return [
      ['Temporal frontend', `${ADDRESS} (temporal-server on PostgreSQL)`],
      ['Temporal Web UI', `${UI_URL} (temporal-ui-server)`],
    ];
  }

  env(): Record<string, string> {
    return { TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_UI_URL: UI_URL, CAELUS_STACK_TEMPORAL: 'server' };
  }
}

/** Host, port, user and password of a postgres:// URL, with libpq's defaults. */
function connection(server: URL): { host: string; port: string; user: string; password: string } {
  return { host: server.hostname, port: server.port || '5432', user: decodeURIComponent(server.username || 'postgres'), password: decodeURIComponent(server.password) };
}

/** temporal-sql-tool's connection settings for the stack's PostgreSQL. */
export function sqlToolEnv(server: URL): Record<string, string> {
  const c = connection(server);
  return { SQL_PLUGIN: 'postgres12', SQL_HOST: c.host, SQL_PORT: c.port, SQL_USER: c.user, SQL_PASSWORD: c.password };
}

/** temporal-ui-server's configuration: loopback, the dev server's UI port, the stack's frontend and namespace. */
export function temporalUiConfig(): string {
  return [
    `temporalGrpcAddress: ${JSON.stringify(ADDRESS)}`,
    `host: ${JSON.stringify(HOST)}`,
    `port: ${PORTS.temporalUi}`,
    'enableUi: true',
    `defaultNamespace: ${JSON.stringify(TEMPORAL_NAMESPACE)}`,
    'refreshInterval: 1m',
    'notifyOnNewVersion: false',
    'cors:',
    '  cookieInsecure: true',
    '  allowOrigins: []',
    'auth:',
    '  enabled: false',
    '',
  ].join('\n');
}

/** The environment variable the server's config template reads the PostgreSQL password from. */
const PASSWORD_ENV = 'CAELUS_TEMPORAL_DB_PASSWORD';

/**
 * The server's dynamic config file: the stack's settings (TEMPORAL_DYNAMIC_CONFIG), and new search
 * attributes usable at once, as development setups configure it.
 */
export function temporalDynamicConfig(): string {
  const settings = { 'system.forceSearchAttributesCacheRefreshOnRead': true, ...TEMPORAL_DYNAMIC_CONFIG };
  return Object.entries(settings)
    .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n    constraints: {}\n`)
    .join('');
}

/**
 * The server's configuration file: the stack's PostgreSQL, loopback only, the dev server's
 * frontend port, every other listener on a port of its own, and pools capped so that the server,
 * the apps and the tests stay well inside PostgreSQL's 100 connections. A template (the server
 * renders files that say `enable-template`), so the password comes from the environment.
 */
export function temporalServerConfig(server: URL, dynamicConfigFile: string): string {
  const p = PORTS.temporalServer;
  const c = connection(server);
  const q = (v: string | number) => JSON.stringify(String(v));
  const store = (db: string, pool: number) =>
    [
      '      sql:',
      '        pluginName: "postgres12"',
      `        databaseName: ${q(db)}`,
      `        connectAddr: ${q(`${c.host}:${c.port}`)}`,
      '        connectProtocol: "tcp"',
      `        user: ${q(c.user)}`,
      `        password: {{ env "${PASSWORD_ENV}" | quote }}`,
      `        maxConns: ${pool}`,
      `        maxIdleConns: ${pool}`,
      '        maxConnLifetime: "1h"',
    ].join('\n');
  const service = (grpc: number, membership: number, http?: number) =>
    [`    rpc:`, `      grpcPort: ${grpc}`, `      membershipPort: ${membership}`, `      bindOnIP: ${q(HOST)}`, ...(http ? [`      httpPort: ${http}`] : [])].join('\n');
  return `# enable-template (the server renders this file; the password is read from the environment)
log:
  stdout: true
  level: warn
persistence:
  defaultStore: caelus-default
  visibilityStore: caelus-visibility
  numHistoryShards: 4
  datastores:
    caelus-default:
${store(TEMPORAL_SERVER_DATABASES.store, TEMPORAL_SERVER_POOLS.store)}
    caelus-visibility:
${store(TEMPORAL_SERVER_DATABASES.visibility, TEMPORAL_SERVER_POOLS.visibility)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${q(HOST)}
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: ${q(`${HOST}:${p.metrics}`)}
services:
  frontend:
${service(PORTS.temporalFrontend, p.frontendMembership, p.frontendHttp)}
  history:
${service(p.historyGrpc, p.historyMembership)}
  matching:
${service(p.matchingGrpc, p.matchingMembership)}
  worker:
${service(p.workerGrpc, p.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${q(`${HOST}:${PORTS.temporalFrontend}`)}
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: ${q(dynamicConfigFile)}
  pollInterval: "10s"
`;
}
