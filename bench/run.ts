/**
 * `npm run bench [-- --quick] [--only overhead,throughput,idle,api,console,peer,fleet,scale] [--peer flux [--peer-steady N] [--peer-sides flux,caelus_helm,caelus_flux]] [--temporal server] [--no-build] [--cpu-prof] …`
 *
 * Runs the benchmarks of issue 6 on the local stack against the BUILT API and worker in child
 * processes, on a scratch database and a task queue of its own, and cleans up after itself
 * (workflows terminated, namespaces and with them the Helm releases deleted, database dropped).
 * A full run writes bench/results/latest.json (and <mode>.json) and the results section of
 * BENCHMARKS.md; a run limited with --only writes <its phases>.json (peer and scale also update
 * their key in latest.json).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ensureStack, loadStackEnv, stopStack } from '../scripts/stack';
import { deleteNamespaces, namespacesWithPrefix } from './lib/cluster';
import { BenchContext, BenchOptions, ChartVariant } from './lib/context';
import { createScratchDb, deploymentRows, ScratchDb } from './lib/db';
import { ExampleChart, exampleChart, headlessVariant } from './lib/helm';
import { apiClient, expectStatus } from './lib/http';
import { AppProcess, freePort, gitHead, readCpu, readMemory, REPO, startBuiltApp, waitForLog } from './lib/procs';
import { IDLE_1000_FILE, writeMarkdown } from './lib/report';
import { connectTemporal, terminateAll, workflowIdFor } from './lib/temporal';
import { log, round, sleep, waitFor } from './lib/util';
import { apiPhase } from './phases/api';
import { consolePhase } from './phases/console';
import { fleetPhase } from './phases/fleet';
import { idlePhase } from './phases/idle';
import { overheadPhase } from './phases/overhead';
import { peerPhase } from './phases/peer';
import { scalePhase } from './phases/scale';
import { throughputPhase } from './phases/throughput';

const PHASES = ['overhead', 'throughput', 'idle', 'api', 'console', 'peer', 'fleet', 'scale'] as const;

function parseArgs(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].split('=').slice(1).join('=') : argv[i + 1];
  };
  const int = (name: string, def: number) => {
    const v = value(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${v}`);
    return n;
  };
  // `--peer flux`: only the peer comparison (unless --only names more); Flux is the one peer there is.
  const peer = value('--peer');
  if (peer !== undefined && peer !== 'flux') throw new Error(`--peer takes flux, got ${peer}`);
  const only = value('--only') ?? (peer ? 'peer' : undefined);
  const phases = new Set((only ? only.split(',') : PHASES).map((p) => p.trim()) as BenchOptions['phases'] extends Set<infer T> ? T[] : never);
  for (const p of phases) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
  const temporal = value('--temporal') ?? 'dev';
  if (temporal !== 'dev' && temporal !== 'server') throw new Error(`--temporal takes dev or server, got ${temporal}`);
  // Runs limited with --only, or on the other Temporal, keep files of their own (peer.json, scale.json,
  // throughput.json, overhead-idle.json, ...): latest.json and <mode>.json hold the full runs alone.
  const limited = phases.size < PHASES.length;
  const peerSides = (value('--peer-sides') ?? 'flux,caelus_helm,caelus_flux').split(',') as BenchOptions['peerSides'];
  // Some of the peer sides only: a file of their own, so a partial run never replaces peer.json.
  const partialPeer = phases.has('peer') && peerSides.length < 3 ? `-${peerSides.join('-')}` : '';
  const defaultFile = temporal === 'server' ? 'temporal-server.json' : limited ? `${PHASES.filter((p) => phases.has(p)).join('-')}${partialPeer}.json` : 'latest.json';
  return {
    quick,
    phases,
    build: !argv.includes('--no-build'),
    overheadRuns: int('--runs', quick ? 20 : 30),
    throughputN: int('--throughput', quick ? 50 : 200),
    idleN: int('--idle', quick ? 200 : 1000),
    idleIntervals: int('--intervals', quick ? 2 : 5),
    scaleN: int('--scale', quick ? 400 : 2000),
    peerSteadyN: int('--peer-steady', quick ? 200 : 1000),
    peerSides,
    temporal,
    driftIntervalSeconds: int('--drift-interval', 60),
    apiDurationSeconds: int('--api-duration', quick ? 10 : 30),
    apiConnections: int('--connections', 10),
    cpuProfile: argv.includes('--cpu-prof'),
    output: resolve(REPO, value('--output') ?? join('bench', 'results', defaultFile)),
    markdown: !argv.includes('--no-markdown'),
    workerRoot: value('--worker-root') ? resolve(value('--worker-root')!) : undefined,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--report-only')) {
    // Re-renders BENCHMARKS.md from bench/results/latest.json, nothing is run.
    writeMarkdown(join(REPO, 'BENCHMARKS.md'), JSON.parse(readFileSync(join(REPO, 'bench', 'results', 'latest.json'), 'utf8')), readIdleAtScale());
    log('updated BENCHMARKS.md from bench/results/latest.json');
    return;
  }
  const opts = parseArgs(argv);
  if (opts.workerRoot && !existsSync(join(opts.workerRoot, 'dist', 'apps', 'worker', 'src', 'main.js'))) {
    throw new Error(`--worker-root ${opts.workerRoot} has no dist/apps/worker/src/main.js: build it there first`);
  }
  // Recorded as typed, but for the other build's directory (see worker_from.commit).
  const shown = argv.map((arg, i) => (argv[i - 1] === '--worker-root' ? '<another checkout>' : arg));
  const command = ['npm', 'run', 'bench', ...(shown.length ? ['--', ...shown] : [])].join(' ');
  const startedAt = new Date();
  const runId = randomBytes(3).toString('hex');
  const prefix = `bench${runId}`;
  const logDir = join(REPO, '.local', 'logs', 'bench', prefix);
  mkdirSync(logDir, { recursive: true });
  // Read before the build: the commit the apps under test are built from, whatever changes during the run.
  const commit = gitHead(REPO);
  log(`${command} (run ${runId}, node ${process.version}, logs in ${relative(REPO, logDir)})`);

  // `--temporal server|dev`: the stack's Temporal is swapped for this run and swapped back after it.
  const temporalBefore = loadStackEnv().CAELUS_STACK_TEMPORAL === 'server' ? 'server' : 'dev';
  const swapTemporal = argv.some((a) => a === '--temporal' || a.startsWith('--temporal=')) && opts.temporal !== temporalBefore;
  const useTemporal = async (which: 'dev' | 'server') => {
    log(`stack: switching Temporal to the ${which === 'server' ? 'server profile (temporal-server on PostgreSQL)' : 'dev server'}`);
    await stopStack((l) => log(`stack: ${l}`), ['temporal']);
    process.env.CAELUS_STACK_TEMPORAL = which;
    return ensureStack({ log: (l) => log(`stack: ${l}`) });
  };
  const stack = swapTemporal ? await useTemporal(opts.temporal) : await ensureStack({ log: (l) => log(`stack: ${l}`) });
  if (opts.build) {
    log('building (npm run build:server: tsc and the workflow bundle the workers start from; the console with vite)');
    execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO, stdio: 'inherit' });
    // The web console the API serves at / (the console phase opens it).
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'apps/console/vite.config.mts'], { cwd: REPO, stdio: 'inherit' });
  }

  const cleanups: (() => Promise<unknown>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) {
        try {
          // A hung step must not keep the rest (the database, the namespaces) from being cleaned.
          await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 180 s')), 180_000).unref())]);
        } catch (err) {
          log(`clean-up step failed: ${(err as Error).message}`);
        }
      }
    })());
  process.once('SIGINT', () => {
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  const results: Record<string, unknown> = {};
  try {
    const ctx = await setUp(opts, { runId, prefix, logDir, commit }, stack, cleanups);
    const t0 = Date.now();
    const timings: Record<string, number> = {};
    const loads: Record<string, number[]> = {};
    for (const phase of PHASES) {
      if (!opts.phases.has(phase)) continue;
      const t = Date.now();
      const loadBefore = loadavg()[0];
      if (phase === 'overhead') results.overhead = await overheadPhase(ctx);
      if (phase === 'throughput') results.throughput = await throughputPhase(ctx);
      if (phase === 'idle') results.idle = await idlePhase(ctx);
      if (phase === 'api') results.api = await apiPhase(ctx);
      if (phase === 'console') results.console = await consolePhase(ctx);
      if (phase === 'peer') results.peer = await peerPhase(ctx);
      if (phase === 'fleet') results.fleet = await fleetPhase(ctx);
      if (phase === 'scale') results.scale = await scalePhase(ctx);
      timings[phase] = Math.round((Date.now() - t) / 1000);
      // The machine is shared: say how busy it was (1-minute load average; 2 cores).
      loads[phase] = [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100];
      log(`${phase} done in ${timings[phase]} s`);
    }
    results.phase_seconds = { ...timings, all_phases: Math.round((Date.now() - t0) / 1000) };
    results.load_average_1m_before_after = loads;
  } finally {
    log('cleaning up');
    await cleanup();
    if (swapTemporal) await useTemporal(temporalBefore);
  }

  const finishedAt = new Date();
  const out = {
    command,
    mode: opts.quick ? 'quick' : 'full',
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    run_id: runId,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), load_at_start: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
    parameters: {
      overhead_runs: opts.overheadRuns,
      throughput_n: opts.throughputN,
      idle_n: opts.idleN,
      idle_intervals: opts.idleIntervals,
      scale_n: opts.scaleN,
      peer_steady_n: opts.peerSteadyN,
      temporal: opts.temporal === 'server' ? `server profile (temporal-server on PostgreSQL)` : 'dev server (temporal server start-dev, SQLite)',
      drift_interval_s: opts.driftIntervalSeconds,
      api_duration_s: opts.apiDurationSeconds,
      api_connections: opts.apiConnections,
    },
    commit,
    // The other build's commit, not its directory: results name no path of the machine they ran on.
    ...(opts.workerRoot ? { worker_from: { commit: gitHead(opts.workerRoot) } } : {}),
    ...results,
  };
  mkdirSync(join(opts.output, '..'), { recursive: true });
  const json = JSON.stringify(out, null, 2) + '\n';
  writeFileSync(opts.output, json);
  const defaultOutput = resolve(REPO, 'bench', 'results', 'latest.json');
  if (opts.output === defaultOutput) writeFileSync(join(opts.output, '..', `${out.mode}.json`), json);
  log(`wrote ${relative(REPO, opts.output)}`);
  // A scale-only or peer-only run also updates its section in latest.json (issues 17 §4 and 16 §3
  // ask for them there), naming its own run.
  for (const section of ['scale', 'peer'] as const) {
    if (!results[section] || opts.output === defaultOutput || !existsSync(defaultOutput)) continue;
    // Some of the peer sides only (--peer-sides): their own file, not the peer section of latest.json.
    if (section === 'peer' && (results.peer as { flux?: { partial?: boolean } }).flux?.partial) continue;
    const latest = JSON.parse(readFileSync(defaultOutput, 'utf8'));
    latest[section] = { run: { command, mode: out.mode, run_id: runId, started_at: out.started_at, commit: out.commit, file: relative(REPO, opts.output) }, ...results[section] };
    writeFileSync(defaultOutput, JSON.stringify(latest, null, 2) + '\n');
    log(`updated ${section} in ${relative(REPO, defaultOutput)}`);
  }
  if (opts.markdown && opts.phases.size === PHASES.length && opts.output === defaultOutput) {
    writeMarkdown(join(REPO, 'BENCHMARKS.md'), out, readIdleAtScale());
    log('updated BENCHMARKS.md');
  }
  log(`done in ${out.duration_s} s`);
}

/** The last full-size idle run, when one was kept (see IDLE_1000_FILE). */
function readIdleAtScale(): unknown {
  const file = join(REPO, IDLE_1000_FILE);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

async function setUp(
  opts: BenchOptions,
  { runId, prefix, logDir, commit }: Pick<BenchContext, 'runId' | 'prefix' | 'logDir' | 'commit'>,
  stack: Record<string, string>,
  cleanups: (() => Promise<unknown>)[],
): Promise<BenchContext> {
  const db: ScratchDb = await createScratchDb(stack.DATABASE_URL, `caelus_${prefix}`);
  cleanups.push(() => db.drop().then(() => log(`dropped database ${db.name}`)));
  const kubectl = { toolsBin: stack.CAELUS_TOOLS_BIN, kubeconfig: stack.KUBECONFIG };
  // Namespaces go last (registered first): after the workflows are terminated and the apps stopped.
  cleanups.push(async () => {
    const names = await namespacesWithPrefix(kubectl, prefix);
    await deleteNamespaces(kubectl, names);
    log(`deleting ${names.length} namespaces (in the background)`);
  });

  const temporal = await connectTemporal(stack.TEMPORAL_ADDRESS, stack.TEMPORAL_NAMESPACE ?? 'default');
  cleanups.push(() => temporal.close());
  cleanups.push(async () => {
    // Every deployment of the scratch database has (had) a workflow on this run's task queue.
    const rows = await deploymentRows(db).catch(() => []);
    const n = await terminateAll(
      temporal.client,
      rows.map((r) => workflowIdFor(r.deploymentUid)),
      'bench clean-up',
    );
    log(`terminated ${n} workflows`);
  });

  const example = exampleChart('1.0.0');
  const chartRoot = mkdtempSync(join(tmpdir(), `caelus-${prefix}-charts-`));
  cleanups.push(async () => rmSync(chartRoot, { recursive: true, force: true }));
  const headless = headlessVariant(example, chartRoot);
  // For the idle phase's extra deployments: no ClusterIP and no pods (the local cluster's single
  // fake node takes 500 pods), the same objects for the drift check to compare.
  const idle = { ...headless, defaultValues: { ...headless.defaultValues, replicas: 0 } };
  const charts: Record<ChartVariant, ExampleChart> = { example, headless, idle };

  const taskQueue = `caelus-bench-${runId}`;
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const common: Record<string, string> = {
    ...stack,
    DATABASE_URL: db.url,
    CAELUS_ADMIN_TOKEN: adminToken,
    CAELUS_TASK_QUEUE: taskQueue,
    CAELUS_RATE_LIMIT: '1000000',
    CAELUS_DRIFT_INTERVAL: String(opts.driftIntervalSeconds),
    CAELUS_SUPERVISOR_INTERVAL: '300',
    CAELUS_CHART_ROOTS: `${join(REPO, 'charts')},${chartRoot}`,
    LOG_LEVEL: 'info',
    NODE_ENV: 'development',
    // One key for both apps, also when the worker runs from another checkout (--worker-root).
    CAELUS_ENCRYPTION_KEY: process.env.CAELUS_ENCRYPTION_KEY ?? readFileSync(join(REPO, '.local', 'encryption.key'), 'utf8').trim(),
  };
  const apiProc: AppProcess = startBuiltApp('api', { ...common, PORT: String(port) }, join(logDir, 'api.log'));
  cleanups.push(() => apiProc.stop());
  const api = apiClient(port, adminToken);
  await waitFor(
    'the API',
    () => api.request('GET', '/health/live').then((r) => r.status),
    (s) => s === 200,
    60_000,
    200,
  ).catch((err) => {
    throw apiProc.exited ? new Error(`the API exited during start-up; see ${apiProc.logFile}`) : err;
  });

  const profDir = join(logDir, 'profiles');
  // Metrics listeners on ports of their own (the defaults may be taken by another worker on this machine).
  const workerEnv: Record<string, string> = { ...common, CAELUS_WORKER_METRICS_PORT: String(await freePort()), CAELUS_TEMPORAL_METRICS_PORT: String(await freePort()) };
  if (opts.workerRoot) log(`worker from another build: ${opts.workerRoot}`);
  const worker = startBuiltApp('worker', workerEnv, join(logDir, 'worker.log'), opts.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [], opts.workerRoot ?? REPO);
  cleanups.push(async () => {
    await worker.stop();
    if (opts.cpuProfile) log(`worker CPU profile in ${relative(REPO, profDir)}`);
  });
  await waitForLog(worker, /worker polling/);
  // The worker with nothing to do: its fixed cost, subtracted when costing one drift check.
  await sleep(2_000);
  const idle0 = readCpu(worker.pid);
  await sleep(opts.quick ? 10_000 : 30_000);
  const idle1 = readCpu(worker.pid);
  const workerBaseline = {
    cpu_fraction: round((idle1.self - idle0.self) / ((idle1.at - idle0.at) / 1000), 4),
    rss_mb: round(readMemory(worker.pid).rssMb, 1),
    window_s: round((idle1.at - idle0.at) / 1000, 1),
  };
  log(`worker with no workflows: ${(workerBaseline.cpu_fraction * 100).toFixed(1)}% of a core, RSS ${workerBaseline.rss_mb} MiB`);

  const product = await expectStatus(api.request<{ id: string }>('POST', '/products', { name: prefix }), 201, 'create product');
  const templates = {} as Record<ChartVariant, string>;
  for (const [variant, chart] of Object.entries(charts) as [ChartVariant, ExampleChart][]) {
    const template = await expectStatus(
      api.request<{ id: string }>('POST', `/products/${product.id}/templates`, {
        version: variant === 'example' ? chart.version : `${chart.version}-${variant}`,
        chartRef: chart.dir,
        chartVersion: chart.version,
        defaultValues: chart.defaultValues,
        valuesSchema: chart.valuesSchema,
      }),
      201,
      `create template (${variant})`,
    );
    templates[variant] = template.id;
  }
  const user = await expectStatus(api.request<{ id: string }>('POST', '/users', { email: `u@${prefix}.example.com` }), 201, 'create user');
  log(`set up: API on 127.0.0.1:${port} (pid ${apiProc.pid}), worker pid ${worker.pid}, task queue ${taskQueue}, database ${db.name}`);

  const ctx: BenchContext = {
    opts,
    runId,
    prefix,
    logDir,
    commit,
    stack,
    db,
    api,
    apiProc,
    worker,
    workerEnv,
    temporal: temporal.client,
    taskQueue,
    charts,
    helm: {
      helmBin: stack.HELM_BIN,
      kubeconfig: stack.KUBECONFIG,
      env: Object.fromEntries(Object.entries(stack).filter(([k]) => k.startsWith('HELM_'))),
    },
    kubectl,
    seed: { userId: user.id, templates, productName: prefix },
    deployments: [],
    counter: 0,
    workerBaseline,
  };
  return ctx;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
