/**
 * 3) Idle scale: many live deployment workflows on one worker, each running its drift check every
 * interval. Measures the worker's CPU (its own threads, from /proc) and memory over whole
 * intervals, counts the drift checks that completed (from the workflow histories) and the
 * longest history. A probe restarts one workflow with a low continue-as-new threshold and
 * signals it until it continues as new, to show that runs stay bounded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchContext, createReady, Deployment } from '../lib/context';
import { readCpu, readMemory, readThreadCpu, REPO, threadCpuFractions } from '../lib/procs';
import { fetchParsedHistory, listRuns, ParsedHistory, Step, WORKFLOW_TYPE, workflowIdFor } from '../lib/temporal';
import { log, mapLimit, median, round, sleep, waitFor } from '../lib/util';

function pidFrom(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    readCpu(pid);
    return pid;
  } catch {
    return undefined;
  }
}

/** The stack's Temporal, kube-apiserver and etcd processes, where their pid files name live ones. */
export function stackPids(): Record<'temporal' | 'kube_apiserver' | 'etcd', number | undefined> {
  return {
    temporal: pidFrom(join(REPO, '.local', 'pids', 'temporal.pid')),
    kube_apiserver: pidFrom(join(REPO, '.local', 'kwok', 'clusters', 'caelus', 'pids', 'kube-apiserver.pid')),
    etcd: pidFrom(join(REPO, '.local', 'kwok', 'clusters', 'caelus', 'pids', 'etcd.pid')),
  };
}

/**
 * CPU seconds of each of those processes; NaN for one that is gone (another user of the shared
 * stack may restart one meanwhile: then its figure is NaN and the result says so).
 */
export function stackCpu(pids: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => {
      try {
        return [k, pid ? readCpu(pid).self : NaN];
      } catch {
        return [k, NaN];
      }
    }),
  );
}

export async function idlePhase(ctx: BenchContext) {
  const worker = ctx.worker!;
  const interval = ctx.opts.driftIntervalSeconds * 1000;
  const missing = Math.max(0, ctx.opts.idleN - ctx.deployments.length);
  if (missing) {
    log(`idle: creating ${missing} more deployments (headless Service, 0 replicas; ${ctx.deployments.length} live already) for ${ctx.opts.idleN}`);
    const t = Date.now();
    await createReady(ctx, missing, 20, 60 * 60_000, 'idle');
    log(`  created and ready in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  const live = [...ctx.deployments];
  const n = live.length;
  const byVariant = (v: string) => live.filter((d) => d.variant === v).length;
  // Let the creation burst drain (last workflow tasks, first drift timers armed).
  await sleep(5_000);

  const others = stackPids();
  const othersAt = () => stackCpu(others);

  log(`idle: measuring ${n} live workflows over ${ctx.opts.idleIntervals} drift intervals of ${interval / 1000} s`);
  const start = Date.now();
  const cpu0 = readCpu(worker.pid);
  const threads0 = readThreadCpu(worker.pid);
  const others0 = othersAt();
  let maxRss = readMemory(worker.pid).rssMb;
  const perInterval: { cpu_fraction: number; cpu_s: number; children_cpu_s: number; rss_mb: number }[] = [];
  let prev = cpu0;
  for (let k = 1; k <= ctx.opts.idleIntervals; k++) {
    const until = start + k * interval;
    while (Date.now() < until) {
      await sleep(Math.min(5_000, until - Date.now()));
      maxRss = Math.max(maxRss, readMemory(worker.pid).rssMb);
    }
    const now = readCpu(worker.pid);
    const mem = readMemory(worker.pid);
    perInterval.push({
      cpu_fraction: round((now.self - prev.self) / ((now.at - prev.at) / 1000)),
      cpu_s: round(now.self - prev.self, 2),
      children_cpu_s: round(now.children - prev.children, 2),
      rss_mb: round(mem.rssMb, 1),
    });
    log(`  interval ${k}: worker CPU ${(perInterval[k - 1].cpu_fraction * 100).toFixed(1)}% of a core, RSS ${mem.rssMb.toFixed(0)} MiB`);
    prev = now;
  }
  const end = Date.now();
  const cpu1 = readCpu(worker.pid);
  const threads1 = readThreadCpu(worker.pid);
  const others1 = othersAt();
  const mem = readMemory(worker.pid);
  const windowS = (end - start) / 1000;

  // Drift checks that completed inside each interval, from the histories.
  const histories: ParsedHistory[] = await mapLimit(live, 8, (d) => fetchParsedHistory(ctx.temporal, workflowIdFor(d.deploymentUid)));
  const checksPerInterval = perInterval.map(() => 0);
  const failedPerInterval = perInterval.map(() => 0);
  const eventsPerCheck: number[] = [];
  // A workflow is on schedule when no stretch of the window longer than an interval (plus 10 %:
  // the next timer starts when a check begins, so the period is the interval plus a little) went
  // without a completed check. Counting checks per fixed 60 s slice instead would miss a few that
  // fall just past a slice's edge.
  const slack = interval * 0.1;
  let onSchedule = 0;
  let maxGap = 0;
  for (const h of histories) {
    const checks = h.steps.filter((s) => isDriftCheck(s) && s.completedAt !== undefined);
    const times = [start, ...checks.filter((c) => !c.failed && c.completedAt! >= start && c.completedAt! <= end).map((c) => c.completedAt!), end];
    const gap = Math.max(...times.slice(1).map((t, i) => t - times[i]));
    maxGap = Math.max(maxGap, gap);
    if (gap <= interval + slack) onSchedule++;
    for (const c of checks) {
      const k = Math.floor((c.completedAt! - start) / interval);
      if (k < 0 || k >= perInterval.length) continue;
      if (c.failed) failedPerInterval[k]++;
      else checksPerInterval[k]++;
    }
    const ok = checks.filter((c) => !c.failed);
    if (ok.length >= 2) eventsPerCheck.push((ok[ok.length - 1].lastEventId - ok[0].lastEventId) / (ok.length - 1));
  }
  const maxEvents = Math.max(...histories.map((h) => h.length));
  const checkMs = histories.flatMap((h) =>
    h.steps.filter((s) => isDriftCheck(s) && s.completedAt !== undefined && s.startedAt !== undefined && s.completedAt >= start).map((s) => s.completedAt! - s.startedAt!),
  );

  const restarted = Object.entries(others)
    .filter(([, pid]) => pid !== undefined && !existsSync(`/proc/${pid}`))
    .map(([k]) => k);
  if (restarted.length) log(`  note: ${restarted.join(', ')} restarted during the window (someone else's test?): figures disturbed`);
  const probe = await continueAsNewProbe(ctx, live[0]);
  const cpuFraction = (cpu1.self - cpu0.self) / windowS;
  const perEvent = median(eventsPerCheck);
  return {
    workflows: n,
    workflows_by_chart: { example: byVariant('example'), headless_service: byVariant('headless'), headless_service_0_replicas: byVariant('idle') },
    drift_interval_s: interval / 1000,
    intervals: perInterval.length,
    window_s: round(windowS, 1),
    cpu_fraction: round(cpuFraction),
    cpu_fraction_max_interval: Math.max(...perInterval.map((p) => p.cpu_fraction)),
    cpu_target: 0.25,
    worker_baseline: ctx.workerBaseline,
    cpu_ms_per_drift_check: round(
      (1000 * (cpuFraction - ctx.workerBaseline.cpu_fraction) * windowS) /
        Math.max(
          1,
          checksPerInterval.reduce((a, b) => a + b, 0),
        ),
      1,
    ),
    // The marginal CPU scaled to 1,000 workflows checked every 60 s (the target's load), plus the fixed cost.
    cpu_fraction_per_1000_workflows_linear: round(ctx.workerBaseline.cpu_fraction + ((cpuFraction - ctx.workerBaseline.cpu_fraction) * (1000 / 60)) / (n / (interval / 1000))),
    helm_children_cpu_s: round(cpu1.children - cpu0.children, 2),
    per_interval: perInterval.map((p, k) => ({ ...p, drift_checks: checksPerInterval[k], drift_checks_failed: failedPerInterval[k] })),
    drift_checks_per_interval: checksPerInterval,
    drift_checks_mean_per_interval: round(checksPerInterval.reduce((a, b) => a + b, 0) / checksPerInterval.length, 1),
    drift_checks_expected_per_interval: n,
    workflows_on_schedule: onSchedule,
    longest_gap_between_checks_s: round(maxGap / 1000, 1),
    drift_checks_failed: failedPerInterval.reduce((a, b) => a + b, 0),
    drift_check_ms: checkMs.length ? { median: round(median(checkMs), 0), max: Math.max(...checkMs) } : null,
    rss_mb: round(mem.rssMb, 1),
    rss_max_mb: round(Math.max(maxRss, mem.rssMb), 1),
    rss_hwm_mb: round(mem.hwmMb, 1),
    max_history_events: Math.max(maxEvents, probe.max_events_per_run),
    max_history_events_live_runs: maxEvents,
    history_target: 2000,
    events_per_drift_check: round(perEvent, 1),
    hours_to_continue_as_new_at_1500: round((1500 / perEvent) * (interval / 3_600_000), 1),
    continue_as_new_probe: probe,
    worker_threads_cpu_fraction: threadCpuFractions(threads0, threads1, windowS, 3, 0.001),
    restarted_during_window: restarted,
    other_processes_cpu_fraction: Object.fromEntries(Object.keys(others).map((k) => [k, round((others1[k] - others0[k]) / windowS)])),
  };
}

/**
 * Restarts one deployment's workflow with `maxHistoryEvents` lowered (the input the tests use)
 * and signals `reconcile` until it has continued as new twice; reports every run's length.
 */
async function continueAsNewProbe(ctx: BenchContext, d: Deployment) {
  const threshold = 100;
  const id = workflowIdFor(d.deploymentUid);
  await ctx.temporal.workflow.getHandle(id).terminate('bench: restarted with a low continue-as-new threshold');
  const handle = await ctx.temporal.workflow.start(WORKFLOW_TYPE, {
    workflowId: id,
    taskQueue: ctx.taskQueue,
    args: [{ deploymentId: d.id, deploymentUid: d.deploymentUid, maxHistoryEvents: threshold }],
  });
  const seenRuns = new Set([handle.firstExecutionRunId]);
  let signals = 0;
  const deadline = Date.now() + 90_000;
  while (seenRuns.size < 3 && Date.now() < deadline) {
    await ctx.temporal.workflow.getHandle(id).signal('reconcile', {});
    signals++;
    await sleep(200);
    seenRuns.add((await ctx.temporal.workflow.getHandle(id).describe()).runId);
  }
  // Visibility is eventually consistent: wait until it lists the closed runs.
  const runs = await waitFor(
    `runs of ${id} in visibility`,
    () => listRuns(ctx.temporal, id),
    (r) => r.filter((x) => x.runId !== undefined).length >= seenRuns.size + 1,
    30_000,
    500,
  ).catch(() => listRuns(ctx.temporal, id));
  const probeRuns = runs.filter((r) => seenRuns.has(r.runId));
  return {
    threshold,
    reconcile_signals: signals,
    runs: probeRuns.map((r) => ({ status: r.status, history_length: r.historyLength })),
    continued_as_new: probeRuns.filter((r) => r.status === 'CONTINUED_AS_NEW').length,
    max_events_per_run: Math.max(0, ...probeRuns.map((r) => r.historyLength)),
  };
}

/** A drift check in a history: the `driftTick` local activity, or `checkDrift` in runs started by older workers. */
function isDriftCheck(s: Step): boolean {
  return (s.kind === 'local-activity' && s.name === 'driftTick') || (s.kind === 'activity' && s.name === 'checkDrift');
}
