/** What every phase works with: the apps under test, the stack, the seeded catalog and the bookkeeping for clean-up. */
import type { Client } from '@temporalio/client';
import { freePods, freeServiceIps, KubectlEnv } from './cluster';
import { deploymentRows, ScratchDb } from './db';
import type { ExampleChart, HelmEnv } from './helm';
import { ApiClient, expectStatus } from './http';
import type { AppProcess } from './procs';
import { log, mapLimit, sleep } from './util';

export interface BenchOptions {
  quick: boolean;
  phases: Set<'overhead' | 'throughput' | 'idle' | 'api' | 'console' | 'peer' | 'fleet' | 'scale'>;
  build: boolean;
  overheadRuns: number;
  throughputN: number;
  idleN: number;
  idleIntervals: number;
  /** Live deployments the scale phase measures at. */
  scaleN: number;
  /** Live releases per side in the peer phase's steady-state figure. */
  peerSteadyN: number;
  /** The peer phase's sides, in order (`--peer-sides`; all three by default). */
  peerSides: ('flux' | 'caelus_helm' | 'caelus_flux')[];
  /** `--temporal server`: the stack's Temporal server on PostgreSQL instead of the CLI's dev server. */
  temporal: 'dev' | 'server';
  driftIntervalSeconds: number;
  apiDurationSeconds: number;
  apiConnections: number;
  cpuProfile: boolean;
  output: string;
  markdown: boolean;
  /** Run the worker from this checkout's dist/ (a before/after comparison); the API always runs from this one. */
  workerRoot?: string;
}

export interface Deployment {
  id: string;
  deploymentUid: string;
  /** Client-side time just before the POST, and when its 202 arrived. */
  postStartedAt: number;
  postEndedAt: number;
  variant: ChartVariant;
}

export interface BenchContext {
  opts: BenchOptions;
  runId: string;
  /** Every namespace and release of this run starts with it. */
  prefix: string;
  logDir: string;
  /** The checkout's commit when the run started (what it built and runs). */
  commit: string | undefined;
  stack: Record<string, string>;
  db: ScratchDb;
  api: ApiClient;
  apiProc: AppProcess;
  worker?: AppProcess;
  /** The environment the bench's worker started with (the scale phase starts more workers from it). */
  workerEnv: Record<string, string>;
  temporal: Client;
  taskQueue: string;
  /** The example chart; its variant with a headless Service (see headlessVariant); that variant with 0 replicas by default. */
  charts: Record<ChartVariant, ExampleChart>;
  helm: HelmEnv;
  kubectl: KubectlEnv;
  seed: { userId: string; templates: Record<ChartVariant, string>; productName: string };
  /** Live Caelus deployments created so far (they stay up for the idle phase). */
  deployments: Deployment[];
  counter: number;
  /** The worker's CPU and memory before any deployment existed. */
  workerBaseline: { cpu_fraction: number; rss_mb: number; window_s: number };
}

export const USER_VALUES = { title: 'Bench' };

export type ChartVariant = 'example' | 'headless' | 'idle';

/** Free ClusterIPs kept for everyone else using the shared cluster. */
const SERVICE_IP_MARGIN = 20;

/**
 * The example chart when the cluster has `need` ClusterIPs to spare (beyond a margin for the
 * other users of the shared cluster), else its headless variant.
 */
export async function pickChart(ctx: BenchContext, need: number, phase: string): Promise<ChartVariant> {
  const ips = await freeServiceIps(ctx.kubectl);
  if (!ips || ips.free - SERVICE_IP_MARGIN >= need) return 'example';
  log(`${phase}: ${need} ClusterIPs needed, ${ips.free} of ${ips.capacity} free: using the example chart with a headless Service`);
  return 'headless';
}

/** Whether the cluster's nodes take `need` more pods, keeping a margin for the other users of the shared cluster. */
export async function podsFit(ctx: BenchContext, need: number): Promise<boolean> {
  const free = await freePods(ctx.kubectl);
  return free === undefined || free - SERVICE_IP_MARGIN >= need;
}

export function domainFor(ctx: BenchContext, i: number): string {
  return `d${i}-${ctx.runId}.bench.example.com`;
}

/** POST …/deployments for the bench user; 202 expected. */
export async function createDeployment(ctx: BenchContext, variant: ChartVariant = 'example'): Promise<Deployment> {
  const i = ctx.counter++;
  const postStartedAt = Date.now();
  const body = await expectStatus(
    ctx.api.request<{ id: string; deploymentUid: string }>('POST', `/users/${ctx.seed.userId}/deployments`, {
      templateId: ctx.seed.templates[variant],
      domainName: domainFor(ctx, i),
      values: USER_VALUES,
    }),
    202,
    'create deployment',
  );
  const d: Deployment = { id: body.id, deploymentUid: body.deploymentUid, postStartedAt, postEndedAt: Date.now(), variant };
  ctx.deployments.push(d);
  return d;
}

export interface ReadyInfo {
  /** When the bench first saw status ready in Postgres (what a client polling the API would see, within the poll period). */
  observedAt: number;
  /** last_reconcile_at: the worker's clock when it recorded the release as ready. */
  recordedAt: number;
}

/**
 * Polls Postgres (the source of truth the API reads) until every deployment is ready. Cheap enough
 * at 50 ms not to disturb what is measured; a status of error is reported and waited out (retries continue).
 */
export async function waitAllReady(ctx: BenchContext, ids: string[], timeoutMs: number, everyMs = 50): Promise<Map<string, ReadyInfo>> {
  const ready = new Map<string, ReadyInfo>();
  const end = Date.now() + timeoutMs;
  const errorsSeen = new Set<string>();
  let lastProgress = Date.now();
  while (ready.size < ids.length) {
    const pending = ids.filter((id) => !ready.has(id));
    const rows = await deploymentRows(ctx.db, pending);
    const now = Date.now();
    for (const r of rows) {
      if (r.status === 'ready') ready.set(r.id, { observedAt: now, recordedAt: r.lastReconcileAt ?? now });
      else if (r.status === 'error' && !errorsSeen.has(r.id)) {
        errorsSeen.add(r.id);
        const e = await ctx.db.client.query<{ last_error: string }>('SELECT last_error FROM deployments WHERE id = $1', [r.id]);
        log(`deployment ${r.deploymentUid} is in error (retrying): ${e.rows[0]?.last_error}`);
      }
    }
    if (ready.size === ids.length) break;
    if (now > end) throw new Error(`${ids.length - ready.size} of ${ids.length} deployments not ready after ${Math.round(timeoutMs / 1000)}s`);
    if (now - lastProgress > 15_000) {
      log(`  ${ready.size}/${ids.length} ready`);
      lastProgress = now;
    }
    await sleep(everyMs);
  }
  return ready;
}

/** Creates `n` deployments with at most `concurrency` POSTs in flight and waits until all are ready. */
export async function createReady(ctx: BenchContext, n: number, concurrency: number, timeoutMs: number, variant: ChartVariant): Promise<Deployment[]> {
  const created = await mapLimit(Array.from({ length: n }), concurrency, () => createDeployment(ctx, variant));
  await waitAllReady(
    ctx,
    created.map((d) => d.id),
    timeoutMs,
    250,
  );
  return created;
}

/** `n` deployments created at once (all POSTs in flight together), then waited for: when each was seen ready, and the wall time. */
export async function createAllAtOnce(ctx: BenchContext, n: number, variant: ChartVariant) {
  const startedAt = Date.now();
  const created = await mapLimit(Array.from({ length: n }), n, () => createDeployment(ctx, variant));
  const postsDone = Date.now();
  const ready = await waitAllReady(
    ctx,
    created.map((d) => d.id),
    30 * 60_000,
    250,
  );
  const wallMs = Math.max(...[...ready.values()].map((r) => r.observedAt)) - startedAt;
  return { created, ready, startedAt, postsDone, wallMs };
}
