/**
 * 8) Scale (issue 17 §4): the workers as they run in production — drift found by the cluster
 * watcher, the periodic check an hour apart (CAELUS_DRIFT_INTERVAL unset) — at many deployments.
 *
 * 1. 200 deployments (quick: 50) created at once with one worker, then 200 more with two workers
 *    on the same task queue (same machine: reported, no target).
 * 2. Deployments added (20 POSTs in flight) until N are live (full: 2,000, quick: 400).
 * 3. Idle: once the creation burst has drained and the workers have settled (their CPU is read
 *    every 30 s for 3 minutes and recorded), two 60 s windows: CPU of all workers together
 *    (target ≤ 5 % of a core) and by thread, their RSS, the kube-apiserver's and Temporal's CPU,
 *    the API server's requests (rate, and count by verb and resource), and what the workers did
 *    in the window from their /metrics (drift checks, workflow tasks and replays, activities,
 *    sticky-cache hits and misses).
 * 4. Drift latency: 20 manual changes spread over the N (a deleted ConfigMap, a scaled
 *    Deployment, alternately), each timed from the change to its correction as read back from
 *    the API server every 100 ms (target p95 ≤ 5 s).
 *
 * All deployments use the example chart with a headless Service and 0 replicas (the `idle`
 * variant): the local cluster's one fake node takes 500 pods, and ClusterIPs run out sooner.
 */
import { ApiServerRate, countDeltas } from '../lib/apiserver-rate';
import { BenchContext, createAllAtOnce, createReady, Deployment } from '../lib/context';
import { timeManualChanges } from '../lib/manual-changes';
import { AppProcess, freePort, readCpu, readMemory, readThreadCpu, startBuiltApp, threadCpuFractions, waitForLog } from '../lib/procs';
import { log, mapLimit, round, sleep, summarize } from '../lib/util';
import { stackCpu, stackPids } from './idle';
import { workflowIdFor } from '../lib/temporal';
import { parseSeries, seriesDeltas } from '../lib/exposition';
import { fetchExposition } from '../../libs/observability/src';

const WINDOW_MS = 60_000;
const CHANGES = 20;
/** Worker CPU (all workers, fraction of a core) over 10 s below which the creation burst counts as drained. */
const DRAINED_BELOW = 0.05;
/** After the drain, how long the workers' CPU is followed (every 30 s) before the idle windows. */
const SETTLE_MS = 180_000;
const SETTLE_STEP_MS = 30_000;
/** The workers' /metrics series an idle window reports (counters as differences; the cache size as a value). */
const WINDOW_SERIES =
  /drift_checks|drift_objects|activity_failures|sticky_cache|workflow_task_(execution|replay)_latency_(count|sum)|activity_execution_latency_count|workflow_completed|gc_duration_seconds_(count|sum)|^temporal_request$|poll_succeed/;
const GAUGE_SERIES = /sticky_cache_size/;
/** Each scale worker's metrics port (its /metrics has Caelus's series and the Temporal core's). */
const metricsPorts = new WeakMap<AppProcess, number>();

export async function scalePhase(ctx: BenchContext) {
  const n = ctx.opts.scaleN;
  const burst = ctx.opts.quick ? 50 : 200;
  if (n < 2 * burst) throw new Error(`scale: --scale ${n} is below the ${2 * burst} deployments the worker comparison creates`);

  // The workers as deployed: the bench's own runs with a short drift interval for the idle phase.
  log('scale: restarting the worker with the default drift settings (cluster watcher on, safety-net check every 3600 s)');
  await ctx.worker?.stop();
  const workers: AppProcess[] = [];
  try {
    workers.push(await startWorker(ctx, 1));
    ctx.worker = workers[0];

    log(`scale: ${burst} deployments at once with one worker`);
    const one = await createAllAtOnce(ctx, burst, 'idle');
    log(`  one worker: ${(one.wallMs / 1000).toFixed(1)} s`);
    workers.push(await startWorker(ctx, 2));
    await sleep(5_000);
    log(`scale: ${burst} deployments at once with two workers`);
    const two = await createAllAtOnce(ctx, burst, 'idle');
    log(`  two workers: ${(two.wallMs / 1000).toFixed(1)} s`);
    const perWorker = await activitiesPerWorker(ctx, two.created);

    const missing = Math.max(0, n - ctx.deployments.length);
    if (missing) {
      log(`scale: creating ${missing} more deployments (20 in flight) for ${n} live`);
      const t = Date.now();
      await createReady(ctx, missing, 20, 2 * 60 * 60_000, 'idle');
      log(`  created and ready in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    const live = [...ctx.deployments];

    const drained = await waitDrained(workers);
    log(`scale: burst drained after ${(drained.waitedMs / 1000).toFixed(0)} s (workers at ${(drained.cpuFraction * 100).toFixed(1)} % of a core over 10 s)`);
    const settle = await settleSeries(workers);
    log(`scale: settling, workers at ${settle.map((f) => `${(f * 100).toFixed(2)} %`).join(', ')} of a core (30 s each)`);
    const idle = { ...(await idleWindows(ctx, workers, live.length)), settle_cpu_fraction_every_30s: settle };
    log(`scale: idle, ${live.length} deployments: workers ${idle.windows.map((w) => `${(w.workers_cpu_fraction * 100).toFixed(2)} %`).join(' and ')} of a core`);

    const drift = await driftLatency(ctx, live);
    log(`scale: drift corrected in p50 ${drift.all_ms.median} ms, p95 ${drift.all_ms.p95} ms (${drift.not_corrected} not corrected)`);

    return {
      deployments: live.length,
      chart: 'charts/examples/webapp-1.0.0, Service headless, 0 replicas',
      drift_interval_s: 3600,
      drift_watch: true,
      workers_compared: {
        note: 'two workers against one on the same task queue, each creating the same number of deployments at once on top of those already live; same machine (2 cores): reported, no target',
        n: burst,
        one_worker_wall_s: round(one.wallMs / 1000),
        two_workers_wall_s: round(two.wallMs / 1000),
        ratio_two_to_one: round(two.wallMs / one.wallMs),
        one_worker_ready_ms: summarize([...one.ready.values()].map((r) => r.observedAt - one.startedAt)),
        two_workers_ready_ms: summarize([...two.ready.values()].map((r) => r.observedAt - two.startedAt)),
        activities_per_worker_in_two_worker_burst: perWorker,
      },
      // Creations answered 503 (database busy, Retry-After) and retried by the bench's client, over the whole phase.
      api_503_retried: ctx.api.retried503,
      burst_drained_after_s: round(drained.waitedMs / 1000, 1),
      idle,
      cpu_target: 0.05,
      cpu_met: idle.windows.every((w) => w.workers_cpu_fraction <= 0.05),
      drift_latency: drift,
      drift_p95_target_ms: 5000,
      drift_met: drift.not_corrected === 0 && drift.all_ms.p95 <= 5000,
    };
  } finally {
    // All of them: the run's clean-up only knows the worker it started itself.
    for (const w of workers) await w.stop();
  }
}

async function startWorker(ctx: BenchContext, k: number): Promise<AppProcess> {
  // Unset, as in production: the product's defaults (watcher on, safety net every 3600 s).
  const { CAELUS_DRIFT_INTERVAL: _interval, CAELUS_DRIFT_WATCH: _watch, ...env } = ctx.workerEnv;
  const metricsPort = await freePort();
  const w = startBuiltApp('worker', { ...env, CAELUS_WORKER_METRICS_PORT: String(metricsPort), CAELUS_TEMPORAL_METRICS_PORT: String(await freePort()) }, `${ctx.logDir}/worker-scale-${k}.log`);
  metricsPorts.set(w, metricsPort);
  await waitForLog(w, /worker polling/);
  log(`  worker ${k}: pid ${w.pid}`);
  return w;
}

/** How the two-worker burst's activities were shared: the `identity` of each completed activity's worker. */
async function activitiesPerWorker(ctx: BenchContext, created: Deployment[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await mapLimit(created, 8, async (d) => {
    const history = await ctx.temporal.workflow.getHandle(workflowIdFor(d.deploymentUid)).fetchHistory();
    for (const e of history.events ?? []) {
      const id = e.activityTaskStartedEventAttributes?.identity;
      if (id) counts[id.replace(/@.*/, '')] = (counts[id.replace(/@.*/, '')] ?? 0) + 1;
    }
  });
  return counts;
}

/** CPU seconds per thread name, summed over the workers (the JS main thread, the workflow thread, the Temporal core, V8's GC helpers). */
function workersThreadCpu(workers: AppProcess[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of workers) for (const [name, s] of readThreadCpu(w.pid)) out.set(name, (out.get(name) ?? 0) + s);
  return out;
}

function workersCpu(workers: AppProcess[]): { self: number; children: number } {
  return workers.reduce(
    (a, w) => {
      const c = readCpu(w.pid);
      return { self: a.self + c.self, children: a.children + c.children };
    },
    { self: 0, children: 0 },
  );
}

/** Waits (at most 10 min) until the workers use less than DRAINED_BELOW of a core over 10 s. */
async function waitDrained(workers: AppProcess[]): Promise<{ waitedMs: number; cpuFraction: number }> {
  const t0 = Date.now();
  let fraction = 1;
  while (Date.now() - t0 < 600_000) {
    fraction = await workersCpuOver(workers, 10_000);
    if (fraction < DRAINED_BELOW) break;
  }
  return { waitedMs: Date.now() - t0, cpuFraction: fraction };
}

/** The workers' CPU (fraction of a core, all together) over the next `ms`. */
async function workersCpuOver(workers: AppProcess[], ms: number): Promise<number> {
  const a = workersCpu(workers).self;
  await sleep(ms);
  return (workersCpu(workers).self - a) / (ms / 1000);
}

/** The workers' CPU (fraction of a core, all together) in consecutive 30 s steps over SETTLE_MS: the burst's tail. */
async function settleSeries(workers: AppProcess[]): Promise<number[]> {
  const out: number[] = [];
  for (let t = 0; t < SETTLE_MS; t += SETTLE_STEP_MS) {
    out.push(round(await workersCpuOver(workers, SETTLE_STEP_MS), 4));
  }
  return out;
}

/** Every worker's /metrics series of interest, read now. */
function workersSeries(workers: AppProcess[]): Promise<Map<string, number>[]> {
  return Promise.all(workers.map(async (w) => parseSeries((await fetchExposition(`http://127.0.0.1:${metricsPorts.get(w)}/metrics`, 5000)) ?? '', WINDOW_SERIES)));
}

async function idleWindows(ctx: BenchContext, workers: AppProcess[], deployments: number) {
  const rate = new ApiServerRate(ctx.stack.KUBECONFIG);
  const others = stackPids();
  const othersCpu = () => stackCpu(others);
  const windows: ({ workers_cpu_fraction: number } & Record<string, unknown>)[] = [];
  for (let k = 0; k < 2; k++) {
    const verbs0 = await rate.byVerb(true);
    const series0 = await workersSeries(workers);
    const cpu0 = workersCpu(workers);
    const threads0 = workersThreadCpu(workers);
    const o0 = othersCpu();
    const t0 = Date.now();
    let maxRss = 0;
    while (Date.now() - t0 < WINDOW_MS) {
      await sleep(Math.min(5_000, WINDOW_MS - (Date.now() - t0)));
      maxRss = Math.max(maxRss, ...workers.map((w) => readMemory(w.pid).rssMb));
    }
    const seconds = (Date.now() - t0) / 1000;
    const cpu1 = workersCpu(workers);
    const threads1 = workersThreadCpu(workers);
    const o1 = othersCpu();
    const verbs1 = await rate.byVerb(true);
    const requests = countDeltas(verbs0, verbs1);
    const series1 = await workersSeries(workers);
    windows.push({
      window_s: round(seconds, 1),
      workers_cpu_fraction: round((cpu1.self - cpu0.self) / seconds, 4),
      per_deployment_cpu_ms_per_hour: round((((cpu1.self - cpu0.self) / seconds) * 3_600_000) / deployments, 2),
      helm_children_cpu_s: round(cpu1.children - cpu0.children, 2),
      // Where the workers' CPU went, by thread (fraction of a core, all workers together).
      workers_threads_cpu_fraction: threadCpuFractions(threads0, threads1, seconds, 4, 0.0001),
      workers_rss_mb: workers.map((w) => round(readMemory(w.pid).rssMb, 1)),
      workers_rss_max_mb: round(maxRss, 1),
      apiserver_requests_per_s: round(Object.values(requests).reduce((a, b) => a + b, 0) / seconds, 2),
      apiserver_requests_by_verb_resource: requests,
      // What the workers did in the window (their /metrics, summed over the workers).
      workers_series: seriesDeltas(series0, series1, GAUGE_SERIES),
      other_processes_cpu_fraction: Object.fromEntries(Object.keys(others).map((key) => [key, round((o1[key] - o0[key]) / seconds, 4)])),
    });
  }
  return { workers: workers.length, windows };
}

/**
 * CHANGES manual changes to deployments spread over the list, started 1.5 s apart; each is timed
 * until the API server shows it undone (the ConfigMap exists again; the Deployment is back at 0
 * replicas), read every 100 ms with the stack's admin identity.
 */
async function driftLatency(ctx: BenchContext, live: Deployment[]) {
  const step = Math.max(1, Math.floor(live.length / CHANGES));
  const targets = Array.from({ length: Math.min(CHANGES, live.length) }, (_, i) => live[Math.min(live.length - 1, i * step + Math.floor(step / 2))]);
  const timed = await timeManualChanges(
    targets.map((d) => d.deploymentUid),
    { kubeconfig: ctx.stack.KUBECONFIG, replicas: { chart: 0, changedTo: 1 }, spacingMs: 1500, pollMs: 100, timeoutMs: 120_000 },
  );
  const { changes, ...rest } = timed;
  return { changes, spread_over: live.length, ...rest };
}
