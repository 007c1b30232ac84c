import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The layering rules of .dependency-cruiser.cjs, run by the real CLI on a small tree that has the
// repository's shape: allowed imports pass, each deliberate upward import fails naming its rule.
// Each cruise costs about 2 s of CPU (most of it loading TypeScript); the timeouts allow for a busy machine.
const root = resolve(__dirname, '..');
const depcruiseBin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Files every tree has: each lib's index, in-lib relative imports, an app importing through indexes. */
const ALLOWED: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node', target: 'ES2023', strict: true } }),
  'libs/persistence/src/index.ts': "export * from './users.repository';\n",
  'libs/persistence/src/users.repository.ts': 'export const users = 1;\n',
  'libs/platform/src/index.ts': "export * from './helm/helm.runner';\n",
  'libs/platform/src/helm/helm.runner.ts': 'export const helm = 1;\n',
  'libs/domain/src/index.ts': "export * from './users/users.service';\n",
  'libs/domain/src/users/users.service.ts': "import { users } from '../../../persistence/src';\nexport const service = users;\n",
  'libs/orchestration/src/index.ts': "export * from './activities/helm.activities';\nexport * from './workflows/deployment.workflow';\n",
  'libs/orchestration/src/activities/helm.activities.ts':
    "import { helm } from '../../../platform/src';\nimport { service } from '../../../domain/src';\nexport const activities = { helm, service };\n",
  'libs/orchestration/src/workflows/deployment.workflow.ts': "import type { activities } from '../activities/helm.activities';\nexport type Acts = typeof activities;\n",
  'apps/worker/src/main.ts': "import { activities } from '../../../libs/orchestration/src';\nimport { service } from '../../../libs/domain/src/index';\nexport default [activities, service];\n",
  'apps/cli/src/main.ts': "import { helm } from '../../../libs/platform/src';\nexport default helm;\n",
};

/** One upward or sideways import per file, and the rule that must name it. */
const UPWARD: { file: string; source: string; rule: string }[] = [
  { file: 'libs/orchestration/src/workflows/drift.workflow.ts', source: "import { helm } from '../../../platform/src';\nexport const x = helm;\n", rule: 'workflow-purity' },
  { file: 'libs/orchestration/src/workflows/users.workflow.ts', source: "import type { service } from '../../../domain/src';\nexport type X = typeof service;\n", rule: 'workflow-purity' },
  { file: 'libs/domain/src/users/start.ts', source: "import { activities } from '../../../orchestration/src';\nexport const x = activities;\n", rule: 'domain-not-up' },
  { file: 'libs/platform/src/helm/quota.ts', source: "import { service } from '../../../domain/src';\nexport const x = service;\n", rule: 'adapters-not-domain' },
  { file: 'apps/cli/src/users.ts', source: "import { users } from '../../../libs/persistence/src';\nexport const x = users;\n", rule: 'cli-is-http-client' },
  { file: 'libs/persistence/src/boot.ts', source: "import worker from '../../../apps/worker/src/main';\nexport const x = worker;\n", rule: 'libs-not-apps' },
  { file: 'libs/domain/src/users/deep.ts', source: "import { users } from '../../../persistence/src/users.repository';\nexport const x = users;\n", rule: 'lib-through-index' },
  { file: 'apps/worker/src/deep.ts', source: "import { activities } from '../../../libs/orchestration/src/activities/helm.activities';\nexport const x = activities;\n", rule: 'app-through-index' },
  // A cycle is reported once, from the file the cruise reaches first.
  { file: 'libs/platform/src/helm/a.ts', source: "import { b } from './b';\nexport const a = () => b;\n", rule: 'no-cycles' },
];
const CYCLE_PARTNER = { 'libs/platform/src/helm/b.ts': "import { a } from './a';\nexport const b = () => a;\n" };

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

async function cruise(dir: string): Promise<Violation[]> {
  const args = [depcruiseBin, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', 'apps', 'libs'];
  // The CLI exits non-zero when there are errors; the JSON report is on stdout either way.
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch((err: Error & { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`depcruise failed: ${err.stderr || err.message}`);
    return { stdout: err.stdout };
  });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layering rules (.dependency-cruiser.cjs)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'caelus-layers-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a tree whose imports keep to the layers and go through each index', async () => {
    writeTree(dir, ALLOWED);
    await expect(cruise(dir)).resolves.toEqual([]);
  }, 60_000);

  it('fails each deliberate upward, deep or circular import, naming the rule and the file', async () => {
    writeTree(dir, { ...ALLOWED, ...CYCLE_PARTNER, ...Object.fromEntries(UPWARD.map((u) => [u.file, u.source])) });
    const violations = await cruise(dir);
    const found = new Set(violations.map((v) => `${v.rule.name} ${v.from}`));
    expect([...found].sort()).toEqual(UPWARD.map((u) => `${u.rule} ${u.file}`).sort());
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
  }, 60_000);
});
