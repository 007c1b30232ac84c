// `npm run test:temporal-server`: the lifecycle e2e suite and the Temporal-restart scenario on the
// stack's server profile (temporal-server on PostgreSQL), then the dev server back, pass or fail,
// so the next `npm test` or `npm run dev` finds the stack as it was.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ensureStack, loadStackEnv, stopStack } from './stack';

const REPO = path.join(__dirname, '..');
const SUITES = ['test/e2e/deployment-lifecycle', 'test/reliability/temporal-restart'];

async function main(): Promise<number> {
  const log = (line: string) => console.log(`[temporal-server] ${line}`);
  const before = loadStackEnv().CAELUS_STACK_TEMPORAL === 'server' ? 'server' : 'dev';
  // One Temporal serves 7233 at a time: the dev server goes first.
  if (before !== 'server') await stopStack(log, ['temporal']);
  try {
    const jest = spawnSync(
      process.execPath,
      [path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'e2e', 'reliability', '--runInBand', ...process.argv.slice(2), ...SUITES],
      {
        cwd: REPO,
        stdio: 'inherit',
        env: { ...process.env, CAELUS_STACK_TEMPORAL: 'server', NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning' },
      },
    );
    return jest.status ?? 1;
  } finally {
    if (before !== 'server') {
      log('back to the dev server');
      await stopStack(log, ['temporal']);
      await ensureStack({ log, only: ['temporal'], profiles: [] });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
