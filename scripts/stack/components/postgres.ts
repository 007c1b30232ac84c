import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { LOCAL_DIR, logFile } from '../paths';
import { isAlive, readPid, run, runOk, spawnDetached, stopRecorded, tail, waitFor } from '../proc';
import { DATABASES, HOST, PORTS } from '../versions';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'postgres';
const DEFAULT_SERVER = `postgres://postgres@${HOST}:5432/postgres`;
const LOCAL_SERVER = `postgres://postgres@${HOST}:${PORTS.postgresLocal}/postgres`;

/** Same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Uses DATABASE_URL or 127.0.0.1:5432 when a server answers there; otherwise runs a
 * cluster under .local/postgres from the machine's PostgreSQL binaries.
 */
export class PostgresComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);
  private readonly dataDir = path.join(LOCAL_DIR, 'postgres', 'data');
  private readonly socketDir = path.join(LOCAL_DIR, 'postgres', 'run');
  /** The server in use (maintenance database), decided by up() or read back by status. */
  private server: string | undefined;

  constructor(private readonly previousUrl?: string) {}

  private async pickServer(): Promise<string | undefined> {
    const candidates = [process.env.DATABASE_URL, DEFAULT_SERVER, LOCAL_SERVER].filter((u): u is string => !!u);
    for (const url of candidates) if (await answers(url)) return url;
    return undefined;
  }

  async health(): Promise<Health> {
    const url = this.server ? withDatabase(this.server, DATABASES.app) : this.previousUrl;
    if (!url) return { ok: false, detail: 'not set up yet (run stack:up)' };
    const ok = await answers(url);
    return { ok, detail: ok ? redact(url) : `${redact(url)} does not answer` };
  }

  async up(log: Log): Promise<void> {
    this.server = await this.pickServer();
    if (!this.server) {
      await this.startLocal(log);
      this.server = LOCAL_SERVER;
    }
    const client = new Client({ connectionString: this.server, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const existing = await client.query<{ datname: string }>('select datname from pg_database');
      for (const db of Object.values(DATABASES)) {
        if (existing.rows.some((r) => r.datname === db)) continue;
        log(`postgres: creating database ${db}`);
        await client.query(`create database "${db}"`);
      }
    } catch (err) {
      throw new ComponentError(NAME, this.logFile, `preparing databases on ${redact(this.server)}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async startLocal(log: Log): Promise<void> {
    const bin = await findPostgresBin(log);
    const asPostgres = asServiceUser();
    const wrap = (cmd: string, args: string[]): [string, string[]] =>
      asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    fs.mkdirSync(this.socketDir, { recursive: true });
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    if (!fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      log(`postgres: nothing answers on 5432; initialising a cluster in ${this.dataDir}`);
      fs.mkdirSync(this.dataDir, { recursive: true });
      if (asPostgres) await runOk('chown', ['-R', 'postgres', path.dirname(this.dataDir)]);
      const [cmd, args] = wrap(path.join(bin, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
      const res = await run(cmd, args, { timeoutMs: 120_000 });
      fs.appendFileSync(this.logFile, res.stdout + res.stderr);
      if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `initdb failed\n${tail(this.logFile)}`);
    }
    const pid = readPid(NAME);
    if (pid === undefined || !isAlive(pid)) {
      log(`postgres: starting local cluster on ${HOST}:${PORTS.postgresLocal}`);
      const [cmd, args] = wrap(path.join(bin, 'postgres'), [
        '-D',
        this.dataDir,
        '-p',
        String(PORTS.postgresLocal),
        '-k',
        this.socketDir,
        '-c',
        `listen_addresses=${HOST}`,
      ]);
      spawnDetached(NAME, cmd, args, this.logFile);
    }
    try {
      await waitFor('the local PostgreSQL cluster', () => answers(LOCAL_SERVER), 60_000, 500, NAME);
    } catch (err) {
      throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
    }
  }

  async down(): Promise<string> {
    if (await stopRecorded(NAME, 30_000)) return 'stopped local cluster';
    return 'external server left running';
  }

  endpoints(): Array<[string, string]> {
    const url = this.server ? withDatabase(this.server, DATABASES.app) : this.previousUrl;
    return [['PostgreSQL', url ? redact(url) : '-']];
  }

  env(): Record<string, string> {
    if (!this.server) return {};
    return {
      DATABASE_URL: withDatabase(this.server, DATABASES.app),
      TEST_DATABASE_URL: withDatabase(this.server, DATABASES.test),
    };
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** PostgreSQL refuses to run as root; use the distribution's postgres account then. */
function asServiceUser(): boolean {
  if (os.userInfo().uid !== 0) return false;
  try {
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith('postgres:'));
  } catch {
    return false;
  }
}

async function findPostgresBin(log: Log): Promise<string> {
  const found = locatePostgresBin();
  if (found) return found;
  log('postgres: no PostgreSQL binaries found; installing the distribution package with apt-get');
  const sudo = os.userInfo().uid === 0 ? [] : ['sudo', '-n'];
  const apt = (args: string[]) => run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], {
    timeoutMs: 900_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  await apt(['update']);
  const res = await apt(['install', '-y', 'postgresql']);
  const again = locatePostgresBin();
  if (res.code !== 0 || !again) {
    throw new ComponentError(NAME, logFile(NAME), `could not install PostgreSQL: ${(res.stderr || res.stdout).trim().slice(-500)}`);
  }
  return again;
}

function locatePostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return path.join(root, versions[0], 'bin');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return undefined;
}
