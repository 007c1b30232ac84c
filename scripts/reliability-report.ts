/**
 * `npm run reliability:report`: turns the results the reliability suites wrote into
 * `.local/reliability/results/` into docs/RELIABILITY.md (a table of scenario, runs, outcome
 * and duration, and what each run observed). Run the suites first: `npm run test:reliability`.
 *
 *   npm run reliability:report [-- --out <file>] [-- --check]   (--check: exit 1 unless all passed)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { readResults, RESULTS_DIR, ScenarioResult, SCENARIOS } from './reliability/results';
import { REPO_ROOT } from './stack/paths';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args[outIndex + 1] : join(REPO_ROOT, 'docs', 'RELIABILITY.md');

const seconds = (ms: number) => (ms >= 90_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.round(ms / 1000)} s`);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const outcomeMark: Record<string, string> = { passed: 'passed', failed: '**FAILED**', skipped: 'skipped', 'not run': 'not run' };

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Fixed text: how each scenario is produced, and what other suites cover. */
const HOW = [
  '- Every suite has a scratch database and a task queue of its own, and runs the worker as the built app (`dist/`) in a child',
  '  process with its output captured under `.local/logs/reliability/`; fault scenarios use 10 deployments of the small',
  '  `charts/examples/webapp` chart and delete them at the end (which must work too).',
  '- **The gate**: one helm run holds its release pending for a few seconds only, and on a busy two-core machine ten runs are',
  "  staggered. So the releases' PersistentVolumeClaims ask for a storage class nothing provisions: `helm --wait` holds every",
  '  release pending until the test binds a volume to each claim. Faults land while all ten wait, every time.',
  "- **Worker SIGKILL**: SIGKILL to the worker's process group (its helm processes die with it) while all ten releases are",
  '  `pending-install` (then `pending-upgrade`, with a new gated claim) under a running helm; then the gate opens and a new',
  '  worker must unlock the releases and converge them.',
  "- **Temporal restart**: the stack's own code (`restartComponent('temporal')` in `scripts/stack`) stops the dev server and",
  '  starts it again from its SQLite file while ten helm runs wait at the gate, which opens as the server goes; this disturbs',
  "  anything else using the stack's Temporal at that moment.",
  '- **Kubernetes API outage**: the shared kube-apiserver is not touched. The worker (and its helm) gets a kubeconfig whose',
  '  server is a TCP proxy in the test, which refuses connections and cuts the open ones for 60 s, while five releases wait at',
  "  the gate and five deployments were created a moment before (their namespaces and helm's start meet the outage).",
  "- **Postgres outage**: the worker's `DATABASE_URL` points at such a proxy, cut while ten releases wait at the gate; the",
  '  gate opens, helm finishes, and every status write-back meets the outage (at least 30 s, until helm is done; the Temporal',
  '  history must show each `recordApplied` retried).',
  "- **Lost signal**: the API's `TEMPORAL_ADDRESS` points at a closed port, so every signal after the commit fails; the",
  '  supervisor (a 3 s sweep) must start the missing workflows. Values updates whose signal was lost reach running workflows',
  '  at their next timer (`CAELUS_DRIFT_INTERVAL`, 20 s in the test, 300 s by default).',
  '- **Authorization**: `test/e2e/auth.e2e-spec.ts` runs every route against anonymous callers, a malformed header, a wrong',
  "  token, a deleted user's token, user A, user B, the bootstrap admin and an admin user; the reliability suite checks that",
  '  it still lists every documented operation and covers the rest.',
  '- **Bad input**: the catalogue adds to the cases of `test/e2e/{users,catalog,deployments,http}.e2e-spec.ts`, which it does',
  '  not repeat; each case must get a 4xx with a message, change no row and start no workflow.',
  '- **Least privilege**: the ServiceAccount, ClusterRole and binding rendered from `charts/caelus`, a token from the',
  '  TokenRequest API, and the worker (helm included) using only that token.',
];

function render(results: ScenarioResult[]): string {
  const byId = new Map(results.map((r) => [r.id, r]));
  const rows = SCENARIOS.map((s) => byId.get(s.id) ?? { ...s, outcome: 'not run', runs: 0, unit: '-', durationMs: 0, notes: [], finishedAt: '' });
  const known = new Set(SCENARIOS.map((s) => s.id));
  const extra = results.filter((r) => !known.has(r.id));
  const all = [...rows, ...extra] as (ScenarioResult | (typeof rows)[number])[];
  const ran = results
    .filter((r) => r.finishedAt)
    .map((r) => r.finishedAt)
    .sort();
  const total = results.reduce((n, r) => n + r.durationMs, 0);
  const passed = all.filter((r) => r.outcome === 'passed').length;

  const lines: string[] = [];
  lines.push('# Reliability');
  lines.push('');
  lines.push('Generated by `npm run reliability:report` from the results `npm run test:reliability` wrote');
  lines.push(`(\`${relative(REPO_ROOT, RESULTS_DIR)}/\`). Do not edit by hand: run the suites and the report again.`);
  lines.push('');
  lines.push('```sh');
  lines.push('npm run test:reliability   # the suites in test/reliability (part of `npm test`)');
  lines.push('npm run reliability:report # writes this file');
  lines.push('```');
  lines.push('');
  lines.push(`- Runs: ${ran[0] ?? '-'} to ${ran[ran.length - 1] ?? '-'}, commit \`${git(['rev-parse', '--short', 'HEAD'])}\`, on the local stack (${cpus().length} cores).`);
  lines.push(`- ${passed} of ${all.length} scenarios passed; the scenarios took ${seconds(total)} in all.`);
  lines.push('- Every fault scenario ends only when each deployment is `ready` at the generation last asked for, with that template applied, Helm’s');
  lines.push('  newest revision `deployed` with that chart and no revision Secret `pending-*`, exactly one workflow execution per deployment');
  lines.push('  (visibility, by workflow id and by `CaelusDeploymentId`), the expected events present, and the live ConfigMap showing the last values.');
  lines.push('');
  lines.push('| Scenario | Category | Runs | Outcome | Duration | Observed |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const r of all) {
    const runs = r.outcome === 'not run' ? '-' : `${r.runs} ${r.unit}`;
    const observed = [...r.notes, ...('error' in r && r.error ? [`error: ${r.error}`] : [])].join('; ');
    lines.push(`| ${cell(r.title)} | ${r.category} | ${runs} | ${outcomeMark[r.outcome] ?? r.outcome} | ${r.outcome === 'not run' ? '-' : seconds(r.durationMs)} | ${cell(observed) || '-'} |`);
  }
  lines.push('');
  lines.push('## How the faults are made');
  lines.push('');
  lines.push(...HOW);
  lines.push('');
  lines.push('Specs:');
  lines.push('');
  for (const spec of [...new Set(all.map((r) => r.spec))]) lines.push(`- \`${spec}\``);
  lines.push('');
  return lines.join('\n');
}

const results = readResults();
writeFileSync(out, render(results));
process.stdout.write(`wrote ${relative(process.cwd(), out) || out} from ${results.length} results\n`);
if (args.includes('--check') && !results.every((r) => r.outcome === 'passed')) process.exit(1);
