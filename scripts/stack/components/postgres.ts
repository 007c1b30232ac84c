import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { logFile, REPO_ROOT } from '../paths';
import { isAlive, readPid, run, spawnDetached, stopProcess, stopRecorded, tail, waitFor } from '../proc';
import { DATABASES, HOST, PORTS } from '../versions';
import { Component, ComponentError, Health, Log } from './types';

const NAME = 'postgres';
const DEFAULT_SERVER = `postgres://postgres@${HOST}:5432/postgres`;
/** Per-checkout clusters of the `postgres` account (when the stack runs as root). */
export const SYSTEM_STATE_DIR = '/var/lib/caelus/postgres';

/** Same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function answers(url: string): Promise<boolean> {
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

/** Where the stack's own cluster keeps its data and socket, and as whom it runs. */
export interface OwnClusterLayout {
  /** Holds `data/` (the cluster) and `run/` (its socket). */
  root: string;
  /** The distribution's `postgres` account when the stack runs as root; otherwise undefined (the invoking user). */
  serviceUser: string | undefined;
  port: number;
}

/**
 * As root, PostgreSQL must run as the distribution's `postgres` account, which cannot enter a
 * checkout under a mode-700 home: the cluster then lives in a per-checkout directory under the
 * system's state directory (named after the checkout's path, so two checkouts never share one),
 * owned by that account. As any other user it runs as that user under `.local/postgres`.
 * CAELUS_POSTGRES_DIR and CAELUS_POSTGRES_PORT override the place and the port.
 */
export function ownClusterLayout(env: NodeJS.ProcessEnv = process.env, repoRoot: string = REPO_ROOT): OwnClusterLayout {
  const serviceUser = asServiceUser() ? 'postgres' : undefined;
  const port = env.CAELUS_POSTGRES_PORT ? Number(env.CAELUS_POSTGRES_PORT) : PORTS.postgresLocal;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`CAELUS_POSTGRES_PORT must be a port number, got "${env.CAELUS_POSTGRES_PORT}"`);
  if (env.CAELUS_POSTGRES_DIR) return { root: path.resolve(env.CAELUS_POSTGRES_DIR), serviceUser, port };
  if (!serviceUser) return { root: path.join(repoRoot, '.local', 'postgres'), serviceUser, port };
  return { root: path.join(SYSTEM_STATE_DIR, checkoutId(repoRoot)), serviceUser, port };
}

/** `<checkout name>-<hash of its real path>`: readable, and unique per checkout. */
export function checkoutId(repoRoot: string): string {
  let real = repoRoot;
  try {
    real = fs.realpathSync(repoRoot);
  } catch {
    /* not created yet: the given path names it */
  }
  const name =
    path
      .basename(real)
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(0, 40) || 'checkout';
  return `${name}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
}

/**
 * Uses DATABASE_URL or 127.0.0.1:5432 when a server answers there; otherwise runs a cluster
 * of its own from the machine's PostgreSQL binaries (installed with apt when missing).
 * CAELUS_STACK_POSTGRES=own skips the probing and always runs the stack's own cluster.
 */
export class PostgresComponent implements Component {
  readonly name = NAME;
  readonly logFile = logFile(NAME);
  readonly usesTools = false;
  private readonly layout: OwnClusterLayout;
  private readonly localServer: string;
  /** The server in use (maintenance database), decided by up() or read back by status. */
  private server: string | undefined;

  constructor(
    private readonly previousUrl?: string,
    private readonly procEnv: NodeJS.ProcessEnv = process.env,
  ) {
    this.layout = ownClusterLayout(procEnv);
    this.localServer = `postgres://postgres@${HOST}:${this.layout.port}/postgres`;
  }

  private get dataDir(): string {
    return path.join(this.layout.root, 'data');
  }

  private get socketDir(): string {
    return path.join(this.layout.root, 'run');
  }

  private async pickServer(): Promise<string | undefined> {
    const candidates = this.procEnv.CAELUS_STACK_POSTGRES === 'own' ? [this.localServer] : [this.procEnv.DATABASE_URL, DEFAULT_SERVER, this.localServer];
    for (const url of candidates.filter((u): u is string => !!u)) if (await answers(url)) return url;
    return undefined;
  }

  async health(): Promise<Health> {
    const url = this.server ? withDatabase(this.server, DATABASES.app) : this.previousUrl;
    if (!url) return { ok: false, detail: 'not set up yet (run stack:up)' };
    const ok = await answers(url);
    const isOwn = this.isOwnCluster(url);
    const own = isOwn ? ` (own cluster, data in ${this.dataDir})` : '';
    if (ok && isOwn && replacedServerBinary(this.dataDir)) {
      return { ok: false, detail: `${redact(url)}${own}: its server binary was replaced on disk since it started (a package upgrade?); stack:up restarts it` };
    }
    return { ok, detail: ok ? `${redact(url)}${own}` : `${redact(url)} does not answer${own}` };
  }

  private isOwnCluster(url: string): boolean {
    const u = new URL(url);
    return u.port === String(this.layout.port) && (u.hostname === HOST || u.hostname === 'localhost');
  }

  /** A fast shutdown (clients disconnected, no checkpoint wait) of the own cluster, then its wrapper. */
  private async stopOwnCluster(): Promise<void> {
    const pid = postmasterPid(this.dataDir);
    if (pid !== undefined) await stopProcess(pid, 30_000, 'SIGINT');
    await stopRecorded(NAME, 10_000);
  }

  async up(log: Log): Promise<void> {
    this.server = await this.pickServer();
    if (this.server && this.isOwnCluster(this.server)) {
      const replaced = replacedServerBinary(this.dataDir);
      if (replaced) {
        // A package upgrade (or reinstall) replaced the server under the running cluster: its
        // binary is the old one, its libraries (plpgsql, extensions, loaded on first use) the new
        // ones, and the first use fails with an undefined symbol. Restart it on the installed one,
        // as the distribution does for its own clusters when the package is upgraded.
        log(`postgres: the running cluster's server (${replaced}) was replaced on disk since it started; restarting it on the installed one`);
        await this.stopOwnCluster();
        this.server = undefined;
      }
    }
    if (!this.server) {
      await this.startLocal(log);
      this.server = this.localServer;
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
    const bin = await findPostgresBin(log, this.procEnv);
    const { root, serviceUser } = this.layout;
    // The service account's commands start in a directory it may enter (it cannot enter the checkout).
    const exec = (cmd: string, args: string[]): [string, string[]] => (serviceUser ? ['runuser', ['-u', serviceUser, '--', cmd, ...args]] : [cmd, args]);
    prepareRoot(root, serviceUser);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    if (!fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      log(`postgres: nothing answers${this.procEnv.CAELUS_STACK_POSTGRES === 'own' ? '' : ' on 5432'}; initialising a cluster in ${this.dataDir}${serviceUser ? ` as ${serviceUser}` : ''}`);
      const started = Date.now();
      const [cmd, args] = exec(path.join(bin, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
      const res = await run(cmd, args, { timeoutMs: 120_000, cwd: root });
      fs.appendFileSync(this.logFile, res.stdout + res.stderr);
      if (res.code !== 0) throw new ComponentError(NAME, this.logFile, `initdb failed\n${tail(this.logFile)}`);
      log(`postgres: cluster initialised (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
    const pid = readPid(NAME);
    if (pid === undefined || !isAlive(pid)) {
      log(`postgres: starting the stack's own cluster on ${HOST}:${this.layout.port}`);
      const [cmd, args] = exec(path.join(bin, 'postgres'), ['-D', this.dataDir, '-p', String(this.layout.port), '-k', this.socketDir, '-c', `listen_addresses=${HOST}`]);
      spawnDetached(NAME, cmd, args, this.logFile, { cwd: root });
    }
    try {
      await waitFor('the local PostgreSQL cluster', () => answers(this.localServer), 60_000, 500, NAME);
    } catch (err) {
      throw new ComponentError(NAME, this.logFile, `${(err as Error).message}\n${tail(this.logFile)}`);
    }
  }

  async down(): Promise<string> {
    if (await stopRecorded(NAME, 30_000)) return 'stopped local cluster';
    return 'external server left running';
  }

  /** Removes the own cluster's data (after down()); an external server is left alone. */
  async reset(): Promise<string> {
    if (!fs.existsSync(this.layout.root)) return 'no own cluster data';
    fs.rmSync(this.layout.root, { recursive: true, force: true });
    return `removed ${this.layout.root}`;
  }

  endpoints(): Array<[string, string]> {
    const url = this.server ? withDatabase(this.server, DATABASES.app) : this.previousUrl;
    const rows: Array<[string, string]> = [['PostgreSQL', url ? redact(url) : '-']];
    if (this.server === this.localServer) rows.push(['PostgreSQL data', this.dataDir]);
    return rows;
  }

  /** The server's maintenance database URL: the one up() found or started, else the last up's (a restart of another component). */
  serverUrl(): string | undefined {
    return this.server ?? (this.previousUrl ? withDatabase(this.previousUrl, 'postgres') : undefined);
  }

  env(): Record<string, string> {
    if (!this.server) return {};
    return {
      DATABASE_URL: withDatabase(this.server, DATABASES.app),
      TEST_DATABASE_URL: withDatabase(this.server, DATABASES.test),
    };
  }
}

/** The postmaster's pid from the first line of `postmaster.pid` in the data directory, if any. */
export function postmasterPid(dataDir: string): number | undefined {
  let first: string | undefined;
  try {
    first = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  const pid = Number(first);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The path of the running cluster's server binary when that file is no longer the one on disk
 * (Linux shows `<path> (deleted)` for an executable whose file was unlinked or replaced, which is
 * what dpkg does on an upgrade, a reinstall or a removal); undefined when it is current, when no
 * cluster runs there, or where /proc does not tell.
 */
export function replacedServerBinary(dataDir: string, procRoot = '/proc'): string | undefined {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return undefined;
  let exe: string;
  try {
    exe = fs.readlinkSync(path.join(procRoot, String(pid), 'exe'));
  } catch {
    return undefined;
  }
  const suffix = ' (deleted)';
  return exe.endsWith(suffix) ? exe.slice(0, -suffix.length) : undefined;
}

/**
 * Creates the cluster's directory. For the service account every directory on the way must be
 * enterable (the parents are made 0755 when the stack creates them) and the cluster's own is
 * that account's, mode 0700, as initdb wants.
 */
function prepareRoot(root: string, serviceUser: string | undefined): void {
  const missing: string[] = [];
  for (let dir = path.dirname(root); !fs.existsSync(dir); dir = path.dirname(dir)) missing.push(dir);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  if (!serviceUser) return;
  for (const dir of missing) fs.chmodSync(dir, 0o755);
  const { uid, gid } = accountIds(serviceUser);
  for (const dir of [root, path.join(root, 'run')]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chownSync(dir, uid, gid);
    fs.chmodSync(dir, 0o700);
  }
}

function accountIds(user: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  const [, , uid, gid] = (line ?? '').split(':');
  if (!uid || !gid) throw new Error(`no ${user} account in /etc/passwd`);
  return { uid: Number(uid), gid: Number(gid) };
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
    return fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((l) => l.startsWith('postgres:'));
  } catch {
    return false;
  }
}

async function findPostgresBin(log: Log, env: NodeJS.ProcessEnv): Promise<string> {
  const found = locatePostgresBin(env);
  if (found) return found;
  log('postgres: no PostgreSQL binaries found; installing the distribution package with apt-get');
  const sudo = os.userInfo().uid === 0 ? [] : ['sudo', '-n'];
  const apt = (args: string[]) =>
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], {
      timeoutMs: 900_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const started = Date.now();
  await apt(['update']);
  log(`postgres: apt-get update done (${((Date.now() - started) / 1000).toFixed(1)}s); installing postgresql`);
  const res = await apt(['install', '-y', '--no-install-recommends', 'postgresql']);
  const again = locatePostgresBin(env);
  if (res.code !== 0 || !again) {
    throw new ComponentError(NAME, logFile(NAME), `could not install PostgreSQL: ${(res.stderr || res.stdout).trim().slice(-500)}`);
  }
  log(`postgres: installed PostgreSQL binaries in ${again} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return again;
}

/** The newest /usr/lib/postgresql/<major>/bin (CAELUS_POSTGRES_BIN_ROOT moves it), else initdb on PATH. */
function locatePostgresBin(env: NodeJS.ProcessEnv): string | undefined {
  const root = env.CAELUS_POSTGRES_BIN_ROOT ?? '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return path.join(root, versions[0], 'bin');
  if (env.CAELUS_POSTGRES_BIN_ROOT) return undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return undefined;
}
