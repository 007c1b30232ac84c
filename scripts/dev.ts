/**
 * `npm run dev`: the local stack, migrations, a build (with the web console the API serves at /),
 * then the API and the worker side by side with their logs interleaved: readable on a terminal, JSON
 * lines otherwise. Ctrl-C stops both (the stack keeps running; see `npm run stack:down`).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { devLogFormat, prettyLogs } from './dev-logs';
import { migrate } from './migrate';
import { ensureStack } from './stack';

const ROOT = resolve(__dirname, '..');

/** A bootstrap admin token for local runs, made once and kept in .local/ (never committed). */
function devAdminToken(): string {
  if (process.env.CAELUS_ADMIN_TOKEN) return process.env.CAELUS_ADMIN_TOKEN;
  const file = join(ROOT, '.local', 'admin.token');
  if (!existsSync(file)) {
    mkdirSync(join(ROOT, '.local'), { recursive: true });
    writeFileSync(file, `cae_admin_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log('[dev] bringing up the local stack (first run builds the tools; see docs/STACK.md)');
  const env = await ensureStack({ verbose: true });
  Object.assign(process.env, env);
  await migrate('up', env.DATABASE_URL, (line) => console.log(`[dev] migrate: ${line}`));

  console.log('[dev] building (the API, the worker and the web console)');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');

  const adminToken = devAdminToken();
  const childEnv = { ...process.env, ...env, CAELUS_ADMIN_TOKEN: adminToken };
  const port = process.env.PORT ?? '3000';
  const children: ChildProcess[] = [];
  const logFormat = devLogFormat(process.stdout);
  const startChild = (name: string, script: string) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, env: childEnv, stdio: ['ignore', logFormat === 'pretty' ? 'pipe' : 'inherit', 'inherit'] });
    if (child.stdout) prettyLogs(name, child.stdout);
    child.on('exit', (code, signal) => {
      console.log(`[dev] ${name} exited (${signal ?? code})`);
      shutdown(code ?? 1);
    });
    children.push(child);
  };
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => process.exit(code), 25_000).unref();
    void Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r))))).then(() => process.exit(code));
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));

  startChild('api', join('dist', 'apps', 'api', 'src', 'main.js'));
  startChild('worker', join('dist', 'apps', 'worker', 'src', 'main.js'));

  console.log(`
[dev] Caelus is starting (${((Date.now() - t0) / 1000).toFixed(0)} s so far)
  Console      http://127.0.0.1:${port}/       (sign in with the admin token below)
  API          http://127.0.0.1:${port}        (OpenAPI: http://127.0.0.1:${port}/docs)
  Temporal UI  ${env.TEMPORAL_UI_URL}
  Admin token  in .local/admin.token  (curl -H "Authorization: Bearer $(cat .local/admin.token)" ...)
  Logs         ${logFormat === 'pretty' ? 'readable below (JSON lines when the output is not a terminal)' : 'JSON lines (readable on a terminal)'}
  Ctrl-C stops the API and the worker; \`npm run stack:down\` stops the stack.
`);
}

main().catch((err) => {
  console.error(`[dev] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
