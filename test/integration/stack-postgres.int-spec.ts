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
import { checkoutId, postmasterPid, replacedServerBinary, SYSTEM_STATE_DIR } from '../../scripts/stack/components/postgres';

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

async function sql(url: string, text: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
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

  it('restarts its running cluster on the installed server when a package upgrade replaced the binary under it', async () => {
    // A copy of the distribution's server tree (PostgreSQL finds its libraries and share files
    // relative to its binary), so that the binary can be replaced as dpkg does on an upgrade —
    // a new file renamed over the old one — without touching the machine's packages.
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-pgtree-'));
    fs.chmodSync(tree, 0o755);
    const major = fs.readdirSync('/usr/lib/postgresql').find((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'postgres')));
    if (!major) throw new Error('no PostgreSQL server under /usr/lib/postgresql');
    const binDir = path.join(tree, 'lib', 'postgresql', major, 'bin');
    fs.mkdirSync(path.dirname(binDir), { recursive: true });
    fs.cpSync(path.join('/usr/lib/postgresql', major, 'bin'), binDir, { recursive: true });
    fs.symlinkSync(path.join('/usr/lib/postgresql', major, 'lib'), path.join(tree, 'lib', 'postgresql', major, 'lib'));
    fs.mkdirSync(path.join(tree, 'share', 'postgresql'), { recursive: true });
    fs.symlinkSync(path.join('/usr/share/postgresql', major), path.join(tree, 'share', 'postgresql', major));
    for (const dir of [path.join(tree, 'lib'), path.join(tree, 'lib', 'postgresql'), path.join(tree, 'share'), path.join(tree, 'share', 'postgresql')]) fs.chmodSync(dir, 0o755);

    const { home, checkout } = checkoutIn700Dir();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CAELUS_STACK_POSTGRES: 'own',
      CAELUS_POSTGRES_PORT: String(port),
      CAELUS_POSTGRES_BIN_ROOT: path.join(tree, 'lib', 'postgresql'),
    };
    delete env.DATABASE_URL;
    delete env.TEST_DATABASE_URL;
    const dataDir = path.join(SYSTEM_STATE_DIR, checkoutId(checkout), 'data');
    const url = `postgres://postgres@127.0.0.1:${port}/caelus`;
    try {
      const up = await stack(checkout, ['up', '--only', 'postgres'], env);
      expect(up.code).toBe(0);
      const before = postmasterPid(dataDir);
      expect(before).toBeDefined();
      expect(fs.readlinkSync(`/proc/${before}/exe`)).toBe(path.join(binDir, 'postgres'));
      await sql(url, 'create table kept (v text)');
      await sql(url, 'insert into kept values ($1)', ['survives the restart']);

      // The upgrade: a new server file renamed over the running one.
      fs.copyFileSync(path.join(binDir, 'postgres'), path.join(binDir, 'postgres.dpkg-new'));
      fs.renameSync(path.join(binDir, 'postgres.dpkg-new'), path.join(binDir, 'postgres'));
      expect(replacedServerBinary(dataDir)).toBe(path.join(binDir, 'postgres'));

      const status = await stack(checkout, ['status', '--only', 'postgres'], env);
      process.stderr.write(`[replaced-binary] stack:status after the replacement:\n${status.out}\n`);
      expect(status.code).toBe(1);
      expect(status.out).toMatch(/replaced on disk since it started/);

      const again = await stack(checkout, ['up', '--only', 'postgres'], env);
      process.stderr.write(`[replaced-binary] stack:up after the replacement (${again.seconds.toFixed(1)}s):\n${again.out}\n`);
      expect(again.code).toBe(0);
      expect(again.out).toMatch(/replaced on disk since it started; restarting it/);
      const after = postmasterPid(dataDir);
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      expect(replacedServerBinary(dataDir)).toBeUndefined();
      // Same data, and a library loaded on first use (plpgsql) loads.
      expect(await sql(url, 'select v from kept')).toEqual([{ v: 'survives the restart' }]);
      await sql(url, 'create function caelus_probe() returns int as $$ begin return 7; end $$ language plpgsql');
      expect(await sql(url, 'select caelus_probe() as n')).toEqual([{ n: 7 }]);

      const quiet = await stack(checkout, ['up', '--only', 'postgres'], env);
      expect(quiet.code).toBe(0);
      expect(quiet.out).not.toMatch(/restarting/);
      expect(postmasterPid(dataDir)).toBe(after);
    } finally {
      await stack(checkout, ['down', '--only', 'postgres'], env);
      await stack(checkout, ['reset', '--only', 'postgres'], env);
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });

  (aptPath ? it : it.skip)('installs the PostgreSQL server with apt when its binaries are missing, then starts the same way', async () => {
    // Package=version of what is installed (the server's and the client library's), so that the
    // end puts back these versions, not the mirror's newest: the stack's running cluster (the
    // other tiers') runs on these binaries.
    const installed = (await sh('dpkg-query', ['-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n', 'postgresql*', 'libpq*'])).out
      .split('\n')
      .filter((l) => / ii/.test(l))
      .map((l) => l.split(' '))
      .map(([pkg, version]) => ({ pkg, version }));
    try {
      const removed = await sh('apt-get', ['remove', '-y', 'postgresql-15']);
      process.stderr.write(`[apt] removed postgresql-15 in ${removed.seconds.toFixed(1)}s\n`);
      expect(removed.code).toBe(0);
      expect(fs.existsSync('/usr/lib/postgresql/15/bin/initdb')).toBe(false);
      await ownPostgres('apt');
      expect(fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'initdb')))).toBe(true);
    } finally {
      // Leave the machine's packages as they were: the same versions (the stack installs the
      // mirror's newest, which may be a newer point release), else at least the same packages.
      const exact = await sh('apt-get', ['install', '-y', '--allow-downgrades', ...installed.map((p) => `${p.pkg}=${p.version}`)]);
      if (exact.code !== 0) {
        process.stderr.write(`[apt] could not put back the exact versions (${exact.out.trim().split('\n').pop()}); reinstalling the packages\n`);
        await sh('apt-get', ['install', '-y', ...installed.map((p) => p.pkg)]);
      }
    }
  });
});
