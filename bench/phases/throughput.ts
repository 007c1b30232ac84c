/**
 * 2) Throughput: N deployments created at once, wall time until all are ready, against N direct
 * helm installs started at once. The helm side runs first; its releases stay until the clean-up
 * (or are deleted before the Caelus side when the cluster cannot take both sides' pods).
 * CPU seconds of every process involved are recorded for both sides: on two cores, throughput
 * is bounded by CPU, so they say where the time goes.
 */
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ApiServerRate, countDeltas } from '../lib/apiserver-rate';
import { Breakdown, breakdowns, countSlowSteps, meanBreakdown, roundBreakdown } from '../lib/breakdown';
import { deleteNamespaces, waitNamespacesGone } from '../lib/cluster';
import { BenchContext, createAllAtOnce, domainFor, pickChart, podsFit, USER_VALUES } from '../lib/context';
import { fetchExposition } from '../../libs/observability/src';
import { eventLoopDelayMs } from '../lib/exposition';
import { helmInstall, mergedValues } from '../lib/helm';
import { readCpu, readThreadCpu, REPO, threadCpuFractions } from '../lib/procs';
import { log, mapLimit, round, sleep, summarize } from '../lib/util';

export async function throughputPhase(ctx: BenchContext) {
  ctxRef = ctx;
  const n = ctx.opts.throughputN;
  // The helm releases stay until the clean-up (deleting them would load the cluster while the
  // Caelus side is measured) when the cluster takes both sides' pods and ClusterIPs; otherwise
  // they are deleted, and gone, before the Caelus side starts.
  const keepHelm = await podsFit(ctx, 2 * n);
  if (!(await podsFit(ctx, n))) throw new Error(`throughput: the cluster's nodes do not take ${n} more pods; use a smaller --throughput`);
  const variant = await pickChart(ctx, keepHelm ? 2 * n : n, 'throughput');
  const chart = ctx.charts[variant];
  log(`throughput: ${n} direct helm installs at once`);
  const releases = Array.from({ length: n }, (_, i) => `${ctx.prefix}-t${i}`);
  const apiserver = new ApiServerRate(ctx.stack.KUBECONFIG);
  const helmRequests0 = await apiserver.byVerb(true);
  const helmLoad0 = loadavg()[0];
  const helmCpu0 = cpuNow();
  const t0 = Date.now();
  const helmRuns = await mapLimit(releases, n, (release, i) => helmInstall(ctx.helm, chart, release, mergedValues(chart, USER_VALUES, release, domainFor(ctx, 200_000 + i))));
  const helmWall = Math.max(...helmRuns.map((r) => r.endedAt)) - t0;
  const helmFailed = helmRuns.filter((r) => !r.ok);
  if (helmFailed.length) log(`  ${helmFailed.length} helm installs failed, e.g. ${helmFailed[0].error}`);
  const helmCpu = cpuSince(helmCpu0);
  const helmRequests = countDeltas(helmRequests0, await apiserver.byVerb(true));
  const helmLoad1 = loadavg()[0];
  log(`  helm: ${(helmWall / 1000).toFixed(1)} s; now ${n} Caelus deployments at once`);
  if (!keepHelm) {
    log(`  (deleting the helm releases first: the cluster does not take ${2 * n} more pods)`);
    await deleteNamespaces(ctx.kubectl, releases);
    await waitNamespacesGone(ctx.kubectl, releases, 600_000);
  }
  await sleep(2_000);
  const caelusLoad0 = loadavg()[0];
  const caelusCpu0 = cpuNow();
  // Restarts the worker's event-loop delay histogram, so the next read covers the Caelus side alone.
  await workerLoopDelay(ctx);
  const threads0 = readThreadCpu(ctx.worker!.pid);
  const caelusRequests0 = await apiserver.byVerb(true);

  const logFrom = temporalLogSize();
  const { created, ready, startedAt: c0, postsDone, wallMs: caelusWall } = await createAllAtOnce(ctx, n, variant);
  const caelusCpu = cpuSince(caelusCpu0);
  const loopDelay = await workerLoopDelay(ctx);
  const threads1 = readThreadCpu(ctx.worker!.pid);
  const caelusRequests = countDeltas(caelusRequests0, await apiserver.byVerb(true));
  const caelusLoad1 = loadavg()[0];
  const serverErrors = temporalServerErrors(logFrom, ctx.prefix);
  log(`  caelus: ${(caelusWall / 1000).toFixed(1)} s (POSTs took ${((postsDone - c0) / 1000).toFixed(1)} s)`);

  const items = created.map((d) => ({ d, ready: ready.get(d.id)! }));
  const bds = await breakdowns(ctx.temporal, items);
  const slowestIdx = items.reduce((best, it, i) => (it.ready.observedAt > items[best].ready.observedAt ? i : best), 0);
  const applyStarts = bds.filter((b): b is Breakdown => !!b);
  return {
    n,
    concurrency: n,
    chart: variant === 'example' ? 'charts/examples/webapp-1.0.0' : 'charts/examples/webapp-1.0.0, Service headless',
    helm_releases_deleted_before_caelus_side: !keepHelm,
    helm_wall_s: round(helmWall / 1000),
    caelus_wall_s: round(caelusWall / 1000),
    ratio: round(caelusWall / helmWall),
    target: 1.5,
    helm_failed: helmFailed.length,
    helm_install_ms: summarize(helmRuns.map((r) => r.ms)),
    caelus_post_ms: summarize(created.map((d) => d.postEndedAt - d.postStartedAt)),
    caelus_posts_wall_s: round((postsDone - c0) / 1000),
    caelus_ready_ms: summarize(items.map((it) => it.ready.observedAt - c0)),
    cpu_seconds: {
      note: 'CPU seconds spent while each side ran (all threads); machine = all processes on the machine, including other users of it',
      helm_side: helmCpu,
      caelus_side: caelusCpu,
      // The helm work per deployment, whatever else shares the machine: the ratio the confinement check costs.
      helm_processes_ratio: round(caelusCpu.helm_under_worker / helmCpu.helm_under_bench),
      worker_threads_caelus_side: threadCpuFractions(threads0, threads1, 1, 2, 0.05),
    },
    apiserver_requests_per_deployment: {
      note: 'requests the kube-apiserver served while each side ran, by verb and resource, over N (every client: helm, the worker, the control plane)',
      helm_side: perDeployment(helmRequests, n),
      caelus_side: perDeployment(caelusRequests, n),
    },
    worker_event_loop_delay_ms: {
      note: "how late the worker's main thread (activities, watches, the Temporal SDK's callbacks) ran what was due, while the Caelus side ran; from its /metrics",
      ...loopDelay,
    },
    load_1m_before_after: {
      note: "the machine's 1-minute load average when each side started and ended; other users of the machine take CPU from either side, and the direct side's 50 helm processes get a larger share of a loaded machine than the worker's helm slots",
      helm_side: [round(helmLoad0), round(helmLoad1)],
      caelus_side: [round(caelusLoad0), round(caelusLoad1)],
    },
    temporal_dev_server: {
      note: "the local Temporal (temporal server start-dev, SQLite) under the burst: persistence operations that failed for this run's workflows (context canceled / deadline exceeded) and were retried with backoff, from .local/logs/temporal.log; steps that waited more than 5 s in Temporal's queues",
      failed_operations: serverErrors,
      steps_queued_over_5s: countSlowSteps(bds),
    },
    where_the_time_goes: {
      note: 'mean per deployment, ms; from the POST to ready; queue = schedule-to-start in Temporal, run = start-to-close on the worker',
      mean: meanBreakdown(bds),
      slowest: roundBreakdown(bds[slowestIdx]),
      apply_release_ms: summarize(applyStarts.map((b) => b.activity_run_ms.applyRelease ?? 0)),
    },
  };
}

function perDeployment(counts: Record<string, number>, n: number): Record<string, number> {
  const rows = Object.entries(counts)
    .map(([k, v]) => [k, round(v / n, 2)] as const)
    .filter(([, v]) => v >= 0.1)
    .sort(([, a], [, b]) => b - a);
  return { total: round(Object.values(counts).reduce((a, b) => a + b, 0) / n, 1), ...Object.fromEntries(rows) };
}

async function workerLoopDelay(ctx: BenchContext) {
  const port = ctx.workerEnv.CAELUS_WORKER_METRICS_PORT;
  return eventLoopDelayMs((await fetchExposition(`http://127.0.0.1:${port}/metrics`, 5000)) ?? '');
}

/** Machine-wide busy CPU seconds, from /proc/stat (all cores, every process on the machine). */
function machineBusy(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7];
  return busy / 100;
}

function pidOf(...parts: string[]): number | undefined {
  try {
    return Number(readFileSync(join(REPO, ...parts), 'utf8').trim());
  } catch {
    return undefined;
  }
}

let ctxRef: BenchContext | undefined;

/** CPU counters of the processes that do the work on either side. */
function cpuNow(): Record<string, number> {
  const ctx = ctxRef!;
  const self = (pid?: number) => {
    try {
      return pid ? readCpu(pid) : undefined;
    } catch {
      return undefined;
    }
  };
  const worker = self(ctx.worker?.pid);
  const bench = self(process.pid);
  return {
    machine: machineBusy(),
    worker: worker?.self ?? NaN,
    helm_under_worker: worker?.children ?? NaN,
    helm_under_bench: bench?.children ?? NaN,
    api: self(ctx.apiProc.pid)?.self ?? NaN,
    temporal: self(pidOf('.local', 'pids', 'temporal.pid'))?.self ?? NaN,
    kube_apiserver: self(pidOf('.local', 'kwok', 'clusters', 'caelus', 'pids', 'kube-apiserver.pid'))?.self ?? NaN,
    etcd: self(pidOf('.local', 'kwok', 'clusters', 'caelus', 'pids', 'etcd.pid'))?.self ?? NaN,
  };
}

function cpuSince(start: Record<string, number>): Record<string, number> {
  const now = cpuNow();
  return Object.fromEntries(Object.keys(start).map((k) => [k, round(now[k] - start[k], 1)]));
}

const TEMPORAL_LOG = join(REPO, '.local', 'logs', 'temporal.log');

function temporalLogSize(): number {
  try {
    return statSync(TEMPORAL_LOG).size;
  } catch {
    return -1;
  }
}

/** Lines the Temporal dev server logged since `from` about failed persistence or task processing for this run's workflows. */
function temporalServerErrors(from: number, prefix: string): Record<string, number> | null {
  if (from < 0) return null;
  try {
    const buf = readFileSync(TEMPORAL_LOG);
    const counts: Record<string, number> = {};
    for (const line of buf.subarray(from).toString('utf8').split('\n')) {
      if (!line.includes(`wf-id=deployment-${prefix}`)) continue;
      const msg = /msg="([^"]+)"/.exec(line)?.[1];
      if (msg && /level=(WARN|ERROR)/.test(line)) counts[msg] = (counts[msg] ?? 0) + 1;
    }
    return counts;
  } catch {
    return null;
  }
}
