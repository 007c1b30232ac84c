/**
 * The peer benchmark (`npm run bench -- --peer flux`, issue 16 §3): on the same cluster, the same
 * charts (pushed to the local registry, pinned by digest) and the same N, in one run, three sides
 * one after the other: Flux driven directly (HelmReleases applied with kubectl), Caelus with the
 * helm backend and Caelus with the Flux backend. Each side's releases are deleted and their
 * namespaces gone before the next side starts. Per side:
 *
 * 1. N (quick: 50) new releases at once: time until all are ready;
 * 5. isolation: a release that fails forever (its pods fit no node; every install times out) is
 *    created, then N more at once: their readiness p95 against (1);
 * 6. the N of (1) upgraded to a new digest at once (Caelus: a fleet rollout in one wave);
 * 3. 20 manual changes among them (a deleted ConfigMap, a scaled Deployment, alternately), each
 *    timed until it is undone, p50 and p95;
 * 2. steady state at M (quick: 200) live releases (topped up with 0-replica ones): two windows
 *    of one drift interval each, the side's CPU (worker; controllers), the kube-apiserver's and
 *    etcd's, and the API server's requests by verb, per release per interval;
 * 4. the side's memory (RSS) with N and with M live.
 *
 * Flux's HelmRelease interval is Caelus's drift interval, so both look for drift equally often;
 * Flux runs with as many concurrent reconciles as the worker has helm slots (10).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ensureStack } from '../../scripts/stack';
import { ApiServerRate, countDeltas } from '../lib/apiserver-rate';
import { waitNamespacesGone } from '../lib/cluster';
import { BenchContext, pickChart, podsFit } from '../lib/context';
import { pushPeerCharts } from '../lib/peer-charts';
import { Batch, CaelusSide, FluxSide, PeerSide } from '../lib/peer-sides';
import { timeManualChanges } from '../lib/manual-changes';
import { readCpu, readMemory, REPO } from '../lib/procs';
import { log, round, sleep, summarize } from '../lib/util';
import { stackCpu, stackPids } from './idle';

const CHANGES = 20;

interface Plan {
  n: number;
  steady: number;
  intervalS: number;
}

export async function peerPhase(ctx: BenchContext) {
  const plan: Plan = { n: ctx.opts.throughputN, steady: ctx.opts.peerSteadyN, intervalS: ctx.opts.driftIntervalSeconds };
  log(`peer: bringing Flux up (stack:up --only flux)`);
  await ensureStack({ only: ['flux'], log: (l) => log(`  ${l}`) });
  // (1) and (5) live together, plus the stuck one; the steady-state top-up has no pods.
  const pods = 2 * plan.n + 1;
  if (!(await podsFit(ctx, pods))) throw new Error(`peer: the cluster's nodes do not take ${pods} more pods; use a smaller --throughput`);
  const variant = await pickChart(ctx, pods, 'peer');
  const tmp = mkdtempSync(join(tmpdir(), 'caelus-bench-peer-'));
  try {
    const charts = await pushPeerCharts(ctx.helm, ctx.charts[variant], ctx.charts.headless, tmp, `oci://${ctx.stack.CAELUS_OCI_REGISTRY}/${ctx.prefix}-peer`);
    const caelusHelm = new CaelusSide(ctx, charts, 'helm');
    const caelusFlux = new CaelusSide(ctx, charts, 'flux');
    await caelusHelm.setUp();
    await caelusFlux.setUp();
    const sides = ([new FluxSide(ctx, charts, tmp, plan.intervalS), caelusHelm, caelusFlux] as PeerSide[]).filter((s) => ctx.opts.peerSides.includes(s.name));
    const results: Record<string, SideResult> = {};
    const sidesDir = join(dirname(ctx.opts.output), 'peer-sides');
    const stuck: string[] = [];
    for (const side of sides) {
      const r = await measureSide(ctx, side, plan);
      stuck.push(...r.stuck);
      results[side.name] = r.result;
      // Kept at once, in the results too: a later side failing (or the run stopped) does not lose this one's figures.
      const kept = {
        run_id: ctx.runId,
        commit: ctx.commit,
        finished_at: new Date().toISOString(),
        n: plan.n,
        steady_n: plan.steady,
        drift_interval_s: plan.intervalS,
        setup: side.description,
        ...r.result,
      };
      writeFileSync(join(ctx.logDir, `peer-${side.name}.json`), JSON.stringify(kept, null, 2));
      mkdirSync(sidesDir, { recursive: true });
      writeFileSync(join(sidesDir, `n${plan.n}-steady${plan.steady}-${side.name}.json`), JSON.stringify(kept, null, 2) + '\n');
      log(`peer/${side.name}: figures kept in ${relative(REPO, sidesDir)}/`);
    }
    // The releases that fail forever go last: a delete waits for the install attempt in flight (Caelus: its retries too).
    log(`peer: waiting for the ${stuck.length} failing releases' namespaces to go`);
    if (!(await waitNamespacesGone(ctx.kubectl, stuck, 20 * 60_000))) log('  some were still there after 20 min');
    const flux = results.flux;
    // A run of some sides (--peer-sides) is kept as partial: ratios for the Caelus sides it ran, when Flux ran too.
    const partial = sides.length < 3;
    return {
      flux: {
        ...(partial ? { partial: true, sides_run: sides.map((s) => s.name) } : {}),
        n: plan.n,
        steady_n: plan.steady,
        changes: CHANGES,
        drift_interval_s: plan.intervalS,
        charts: {
          note: `pushed to the local registry and pinned by digest on every side; base = ${variant === 'example' ? 'charts/examples/webapp-1.0.0' : 'charts/examples/webapp-1.0.0 with a headless Service'}; next = the same with the default theme dark (1.0.1); stuck = the base with pods no node takes; idle = headless, 0 replicas`,
          digests: Object.fromEntries(Object.entries(charts).map(([k, c]) => [k, `${c.templateVersion}@${c.digest}`])),
        },
        sides: Object.fromEntries(sides.map((s) => [s.name, { setup: s.description, ...results[s.name] }])),
        ratios: flux
          ? {
              note: 'Caelus / Flux per figure; targets for the helm backend: ≤ 1.0 on 1, 3, 5 and 6; ≤ 0.5 on 2 (CPU per release per interval) and 4 (memory)',
              ...(results.caelus_helm ? { caelus_helm: ratios(results.caelus_helm, flux) } : {}),
              ...(results.caelus_flux ? { caelus_flux: ratios(results.caelus_flux, flux) } : {}),
            }
          : undefined,
      },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

type SideResult = Awaited<ReturnType<typeof measureSide>>['result'];

async function measureSide(ctx: BenchContext, side: PeerSide, plan: Plan) {
  const started = Date.now();
  const { n } = plan;
  log(`peer/${side.name}: (1) ${n} releases at once`);
  await sleep(2_000);
  const first = await side.create('base', n, { concurrency: n, wait: true });
  const ready = timesFrom(first);
  log(`  ready: all after ${s(ready.wall)}, p95 ${s(ready.ms.p95)}`);
  const memoryAtN = memory(side);

  log(`peer/${side.name}: (5) a release that fails forever, then ${n} more at once`);
  const stuck = await side.create('stuck', 1, { concurrency: 1, wait: false });
  // Picked up and holding a slot before the batch arrives.
  await sleep(5_000);
  const second = await side.create('isolated', n, { concurrency: n, wait: true });
  const isolated = timesFrom(second);
  log(`  ready beside the failing one: all after ${s(isolated.wall)}, p95 ${s(isolated.ms.p95)}`);
  await side.remove(stuck.releases, false);

  log(`peer/${side.name}: (6) the first ${n} upgraded to ${'1.0.1'} at once`);
  await sleep(2_000);
  const up = await side.upgrade(first.releases);
  const upgraded = timesFrom(up);
  log(`  upgraded: all ready after ${s(upgraded.wall)}`);

  log(`peer/${side.name}: (3) ${CHANGES} manual changes`);
  const drift = await driftCorrections(ctx, first.releases, plan.intervalS);
  log(`  undone after p50 ${s(drift.all_ms.median)}, p95 ${s(drift.all_ms.p95)} (${drift.not_corrected} not undone)`);

  const live = [...first.releases, ...second.releases];
  const more = Math.max(0, plan.steady - live.length);
  if (more) {
    log(`peer/${side.name}: (2) ${more} more (0 replicas) for ${plan.steady} live`);
    const top = await side.create('idle', more, { concurrency: 20, wait: true });
    live.push(...top.releases);
  }
  // Let the creations' after-effects pass (the first drift checks of the new ones) before measuring.
  await sleep(plan.intervalS * 1000);
  const steady = await steadyWindows(ctx, side, live.length, plan.intervalS);
  log(`  steady state at ${live.length}: ${steady.windows.map((w) => `${w.side_cpu_ms_per_release_per_interval} ms`).join(' / ')} CPU per release per interval`);
  const memoryAtM = memory(side);

  log(`peer/${side.name}: deleting its ${live.length} releases`);
  const d0 = Date.now();
  await side.remove(live, true);
  const deletedS = round((Date.now() - d0) / 1000, 1);
  const result = {
    ready: { wall_s: round(ready.wall / 1000), ready_ms: ready.ms },
    isolation: { wall_s: round(isolated.wall / 1000), ready_ms: isolated.ms, p95_vs_alone: round(isolated.ms.p95 / ready.ms.p95) },
    upgrade: { wall_s: round(upgraded.wall / 1000), ready_ms: upgraded.ms, ...('extra' in up ? (up.extra as Record<string, unknown>) : {}) },
    drift_correction: drift,
    steady_state: steady,
    memory_mb: { with_n: memoryAtN, with_steady_n: memoryAtM },
    deleted_after_s: deletedS,
    side_s: round((Date.now() - started) / 1000, 1),
  };
  return { result, stuck: stuck.releases };
}

function s(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function timesFrom(b: Batch) {
  const ms = [...b.readyAt.values()].map((t) => t - b.startedAt);
  return { wall: Math.max(...ms), ms: summarize(ms) };
}

function memory(side: PeerSide): Record<string, number> & { total: number } {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(side.pids())) out[name] = round(readMemory(pid).rssMb, 1);
  return {
    ...out,
    total: round(
      Object.values(out).reduce((a, b) => a + b, 0),
      1,
    ),
  };
}

/** CPU seconds of the side's processes, with their waited-for children (the worker's helm runs). */
function sideCpu(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => {
      const c = readCpu(pid);
      return [k, c.self + c.children];
    }),
  );
}

interface SteadyWindow {
  window_s: number;
  side_cpu_s: Record<string, number>;
  side_cpu_fraction: number;
  side_cpu_ms_per_release_per_interval: number;
  other_processes_cpu_fraction: Record<string, number>;
  apiserver_requests_per_release_per_interval: Record<string, number> & { all: number };
}

/** Two windows of one drift interval each, with the population live and nothing else asked of the side. */
async function steadyWindows(ctx: BenchContext, side: PeerSide, releases: number, intervalS: number) {
  const rate = new ApiServerRate(ctx.stack.KUBECONFIG);
  const others = stackPids();
  const windows: SteadyWindow[] = [];
  for (let k = 0; k < 2; k++) {
    const pids = side.pids();
    const v0 = await rate.byVerb();
    const c0 = sideCpu(pids);
    const o0 = stackCpu(others);
    const t0 = Date.now();
    await sleep(intervalS * 1000);
    const seconds = (Date.now() - t0) / 1000;
    const c1 = sideCpu(pids);
    const o1 = stackCpu(others);
    const v1 = await rate.byVerb();
    const intervals = seconds / intervalS;
    const cpu = Object.fromEntries(Object.keys(pids).map((p) => [p, round(c1[p] - c0[p], 2)]));
    const cpuS = Object.values(cpu).reduce((a, b) => a + b, 0);
    const perRelease = (x: number) => round(x / releases / intervals, 3);
    const verbs = Object.fromEntries(
      Object.entries(countDeltas(v0, v1))
        .map(([v, n]) => [v, perRelease(n)] as const)
        .filter(([, x]) => x > 0)
        .sort(([, a], [, b]) => b - a),
    );
    windows.push({
      window_s: round(seconds, 1),
      side_cpu_s: cpu,
      side_cpu_fraction: round(cpuS / seconds, 4),
      side_cpu_ms_per_release_per_interval: round((cpuS * 1000) / releases / intervals, 2),
      other_processes_cpu_fraction: Object.fromEntries(Object.keys(others).map((key) => [key, round((o1[key] - o0[key]) / seconds, 4)])),
      apiserver_requests_per_release_per_interval: {
        all: round(
          Object.values(verbs).reduce((a, b) => a + b, 0),
          3,
        ),
        ...verbs,
      },
    });
  }
  const mean = (f: (w: SteadyWindow) => number) => round(windows.reduce((a, w) => a + f(w), 0) / windows.length, 3);
  return {
    releases,
    note: "CPU: the side's own processes (worker with its helm children; helm-controller + source-controller) over each window; requests: the kube-apiserver's apiserver_request_total by verb, every client of the cluster included",
    windows,
    mean_side_cpu_ms_per_release_per_interval: mean((w) => w.side_cpu_ms_per_release_per_interval),
    mean_apiserver_requests_per_release_per_interval: mean((w) => w.apiserver_requests_per_release_per_interval.all),
    mean_kube_apiserver_cpu_fraction: mean((w) => w.other_processes_cpu_fraction.kube_apiserver ?? NaN),
  };
}

/** 20 manual changes among the releases, 1.5 s apart, each read back every 250 ms until undone. */
function driftCorrections(ctx: BenchContext, releases: string[], intervalS: number) {
  return timeManualChanges(releases.slice(0, CHANGES), {
    kubeconfig: ctx.stack.KUBECONFIG,
    replicas: { chart: 1, changedTo: 3 },
    spacingMs: 1500,
    pollMs: 250,
    timeoutMs: (2 * intervalS + 120) * 1000,
  });
}

function ratios(c: SideResult, f: SideResult) {
  const r = (a: number, b: number) => round(a / b);
  return {
    '1_ready_wall': r(c.ready.wall_s, f.ready.wall_s),
    '2_cpu_per_release_per_interval': r(c.steady_state.mean_side_cpu_ms_per_release_per_interval, f.steady_state.mean_side_cpu_ms_per_release_per_interval),
    '2_apiserver_requests_per_release_per_interval': r(c.steady_state.mean_apiserver_requests_per_release_per_interval, f.steady_state.mean_apiserver_requests_per_release_per_interval),
    '2_kube_apiserver_cpu': r(c.steady_state.mean_kube_apiserver_cpu_fraction, f.steady_state.mean_kube_apiserver_cpu_fraction),
    '3_drift_p50': r(c.drift_correction.all_ms.median, f.drift_correction.all_ms.median),
    '3_drift_p95': r(c.drift_correction.all_ms.p95, f.drift_correction.all_ms.p95),
    '4_memory_with_n': r(c.memory_mb.with_n.total, f.memory_mb.with_n.total),
    '4_memory_with_steady_n': r(c.memory_mb.with_steady_n.total, f.memory_mb.with_steady_n.total),
    '5_isolation_p95': r(c.isolation.ready_ms.p95, f.isolation.ready_ms.p95),
    '6_upgrade_wall': r(c.upgrade.wall_s, f.upgrade.wall_s),
  };
}
