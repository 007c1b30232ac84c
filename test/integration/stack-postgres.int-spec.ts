// The stack's own PostgreSQL on a bare machine (issue 18): started as root from a checkout in
// a mode-700 directory, which the `postgres` account cannot enter, on a port of its own next to
// the running stack; and, in CI (or with CAELUS_TEST_APT=1), with the PostgreSQL server package
// removed first, so that the stack installs it with apt.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as PgClient } from 'pg';
import { loadStackEnv } from '../../scripts/stack';
import { checkoutId, SYSTEM_STATE_DIR } from '../../scripts/stack/components/postgres';

jest.setTimeout(900_000);

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const isRoot = os.userInfo().uid === 0;
const hasPostgresAccount = fs.existsSync('/etc/passwd') && /^postgres:/m.test(fs.readFileSync('/etc/passwd', 'utf8'));
const aptPath = isRoot && (process.env.CI === 'true' || process.env.CAELUS_TEST_APT === '1');

interface Run {
  code: number;
  out: string;
  seconds: number;
}

function stack(checkout: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/stack/cli.ts', ...args], { cwd: checkout, env, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], timeoutMs = 600_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}`, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/**
 * A checkout of the stack scripts inside a fresh mode-700 directory owned by root, as a clone
 * under root's home would be. Only what `scripts/stack` needs is copied; node_modules is linked.
 */
function checkoutIn700Dir(): { home: string; checkout: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-home700-'));
  fs.chmodSync(home, 0o700);
  const checkout = path.join(home, 'caelus');
  fs.mkdirSync(path.join(checkout, 'scripts'), { recursive: true });
  fs.cpSync(path.join(REPO_ROOT, 'scripts', 'stack'), path.join(checkout, 'scripts', 'stack'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(checkout, 'package.json'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules'));
  return { home, checkout };
}

async function dataDirectoryOf(url: string): Promise<string> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const res = await client.query<{ dir: string }>("select current_setting('data_directory') as dir");
    return res.rows[0].dir;
  } finally {
    await client.end();
  }
}

async function ownPostgres(label: string): Promise<void> {
  const { home, checkout } = checkoutIn700Dir();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, CAELUS_STACK_POSTGRES: 'own', CAELUS_POSTGRES_PORT: String(port) };
  delete env.DATABASE_URL;
  delete env.TEST_DATABASE_URL;
  const expectedRoot = path.join(SYSTEM_STATE_DIR, checkoutId(checkout));
  try {
    const up = await stack(checkout, ['up', '--only', 'postgres'], env);
    process.stderr.write(`[${label}] stack:up --only postgres: ${up.seconds.toFixed(1)}s\n${up.out}\n`);
    expect(up.code).toBe(0);
    expect(up.out).not.toMatch(/Permission denied/);

    const written = loadStackEnv(path.join(checkout, '.local', 'stack.env'));
    expect(new URL(written.DATABASE_URL).port).toBe(String(port));
    expect(new URL(written.TEST_DATABASE_URL).pathname).toBe('/caelus_test');
    // The cluster lives outside the checkout, in a directory of its own owned by the service account.
    expect(await dataDirectoryOf(written.DATABASE_URL)).toBe(path.join(expectedRoot, 'data'));
    const owner = fs.statSync(expectedRoot).uid;
    expect(owner).not.toBe(0);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);

    const again = await stack(checkout, ['up', '--only', 'postgres'], env);
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/initialising/);

    const status = await stack(checkout, ['status', '--only', 'postgres'], env);
    expect(status.code).toBe(0);
    expect(status.out).toContain(path.join(expectedRoot, 'data'));

    const down = await stack(checkout, ['down', '--only', 'postgres'], env);
    expect(down.out).toMatch(/stopped local cluster/);
    const after = await stack(checkout, ['status', '--only', 'postgres'], env);
    expect(after.code).toBe(1);

    const reset = await stack(checkout, ['reset', '--only', 'postgres'], env);
    expect(reset.code).toBe(0);
    expect(fs.existsSync(expectedRoot)).toBe(false);
  } finally {
    await stack(checkout, ['down', '--only', 'postgres'], env);
    fs.rmSync(expectedRoot, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const describeAsRoot = isRoot && hasPostgresAccount ? describe : describe.skip;

describeAsRoot('the stack’s own PostgreSQL from a checkout in a mode-700 directory (as root)', () => {
  it('runs as the postgres account with its data outside the checkout, on a port of its own; status, down and reset know it', async () => {
    await ownPostgres('mode-700');
  });

  (aptPath ? it : it.skip)('installs the PostgreSQL server with apt when its binaries are missing, then starts the same way', async () => {
    const installed = (await sh('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', 'postgresql*'])).out
      .split('\n')
      .filter((l) => / ii/.test(l))
      .map((l) => l.split(' ')[0]);
    try {
      const removed = await sh('apt-get', ['remove', '-y', 'postgresql-15']);
      process.stderr.write(`[apt] removed postgresql-15 in ${removed.seconds.toFixed(1)}s\n`);
      expect(removed.code).toBe(0);
      expect(fs.existsSync('/usr/lib/postgresql/15/bin/initdb')).toBe(false);
      await ownPostgres('apt');
      expect(fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'initdb')))).toBe(true);
    } finally {
      // Leave the machine's packages as they were (a no-op for those the stack reinstalled).
      await sh('apt-get', ['install', '-y', ...installed]);
    }
  });
});
