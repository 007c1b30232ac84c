/**
 * 4) API: latency and throughput under load (autocannon, programmatic) for listing and creating
 * deployments, against GET /health/live in the same app. The worker is stopped first: creates
 * then measure the API, Postgres and signalWithStart only, and no release gets installed.
 */
import { readFileSync } from 'node:fs';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import autocannon from 'autocannon';
import { join } from 'node:path';
import { INITIAL_PHASE } from '../../libs/orchestration/src';
import { BenchContext } from '../lib/context';
import { readCpu, REPO } from '../lib/procs';
import { terminateAll, WORKFLOW_TYPE } from '../lib/temporal';
import { log, percentile, round } from '../lib/util';

interface Measured {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  rps: number;
  requests: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  /** CPU of the API process and of the Temporal dev server during the measured run, in cores. */
  api_cpu: number;
  temporal_cpu: number;
}

async function cannon(opts: autocannon.Options, pids: { api: number; temporal?: number }): Promise<Measured> {
  const cpu = (pid?: number) => (pid ? readCpu(pid) : undefined);
  const a0 = cpu(pids.api);
  const t0 = cpu(pids.temporal);
  const r = await autocannon({ ...opts, timeout: 30 });
  const a1 = cpu(pids.api);
  const t1 = cpu(pids.temporal);
  const cores = (x0?: { at: number; self: number }, x1?: { at: number; self: number }) => (x0 && x1 ? round((x1.self - x0.self) / ((x1.at - x0.at) / 1000)) : NaN);
  return {
    p50_ms: r.latency.p50,
    p90_ms: r.latency.p90,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    rps: round(r.requests.average, 1),
    requests: r.requests.total,
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    api_cpu: cores(a0, a1),
    temporal_cpu: cores(t0, t1),
  };
}

export async function apiPhase(ctx: BenchContext) {
  if (ctx.worker) {
    log('api: stopping the worker (creates only measure the API, Postgres and signalWithStart)');
    await ctx.worker.stop();
    ctx.worker = undefined;
  }
  const url = ctx.api.baseUrl;
  const auth = { authorization: `Bearer ${ctx.api.token}` };
  const duration = ctx.opts.apiDurationSeconds;
  const connections = ctx.opts.apiConnections;
  const listPath = `/users/${ctx.seed.userId}/deployments`;
  const rows = Number((await ctx.db.client.query<{ n: string }>('SELECT count(*) AS n FROM deployments')).rows[0].n);

  let temporalPid: number | undefined;
  try {
    temporalPid = Number(readFileSync(join(REPO, '.local', 'pids', 'temporal.pid'), 'utf8').trim());
    readCpu(temporalPid);
  } catch {
    temporalPid = undefined;
  }
  const pids = { api: ctx.apiProc.pid, temporal: temporalPid };
  const run = async (name: string, o: autocannon.Options): Promise<Measured> => {
    // Warm-up (JIT, pools), not counted.
    await cannon({ ...o, duration: 2 }, pids);
    const m = await cannon({ ...o, duration }, pids);
    log(`  ${name}: p50 ${m.p50_ms} ms, p99 ${m.p99_ms} ms, ${m.rps} req/s, non-2xx ${m.non_2xx}, errors ${m.errors}; API ${m.api_cpu} cores, Temporal ${m.temporal_cpu} cores`);
    return m;
  };

  log(`api: ${duration} s per route, ${connections} connections, ${rows} deployments in the table`);
  const health = await run('GET /health/live', { url: `${url}/health/live`, connections, duration });
  const list = await run(`GET ${listPath}`, { url: `${url}${listPath}`, connections, duration, headers: auth });
  let n = 0;
  const create = await run(`POST ${listPath}`, {
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: listPath,
        headers: { ...auth, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ templateId: ctx.seed.templates.example, domainName: `a${n++}-${ctx.runId}.api.bench.example.com`, values: { title: 'Load' } }),
        }),
      },
    ],
  });
  const sws = await rawSignalWithStart(ctx, duration, connections);
  log(`  Temporal signalWithStart alone: p50 ${sws.p50_ms} ms, p99 ${sws.p99_ms} ms, ${sws.rps}/s; Temporal ${sws.temporal_cpu} cores`);
  return {
    connections,
    duration_s: duration,
    rows_in_table: rows,
    list_page_size: 'default',
    health,
    list,
    create,
    list_p50_ms: list.p50_ms,
    list_p99_ms: list.p99_ms,
    create_p50_ms: create.p50_ms,
    create_p99_ms: create.p99_ms,
    list_ratio: round(list.p99_ms / health.p99_ms, 2),
    list_ratio_p50: round(list.p50_ms / health.p50_ms, 2),
    list_rps_ratio: round(list.rps / health.rps),
    create_ratio: round(create.p99_ms / health.p99_ms, 2),
    create_ratio_p50: round(create.p50_ms / health.p50_ms, 2),
    create_rps_ratio: round(create.rps / health.rps),
    temporal_signal_with_start: sws,
  };
}

/**
 * What the create route's signalWithStart costs by itself: the same call the API makes (workflow
 * type, task queue, search attributes, summary), from `connections` loops for `seconds`.
 */
async function rawSignalWithStart(ctx: BenchContext, seconds: number, connections: number) {
  const key = (name: string) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
  const latencies: number[] = [];
  const ids: string[] = [];
  let temporalPid: number | undefined;
  try {
    temporalPid = Number(readFileSync(join(REPO, '.local', 'pids', 'temporal.pid'), 'utf8').trim());
  } catch {
    temporalPid = undefined;
  }
  const t0 = temporalPid ? readCpu(temporalPid) : undefined;
  const start = Date.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let i = 0; Date.now() < end; i++) {
        const id = `bench-sws-${ctx.runId}-${c}-${i}`;
        ids.push(id);
        const s = performance.now();
        await ctx.temporal.workflow.signalWithStart(WORKFLOW_TYPE, {
          workflowId: id,
          taskQueue: ctx.taskQueue,
          args: [{ deploymentId: id, deploymentUid: id }],
          signal: 'reconcile',
          signalArgs: [{ generation: 1 }],
          typedSearchAttributes: [
            { key: key('CaelusDeploymentId'), value: id },
            { key: key('CaelusUserId'), value: ctx.seed.userId },
            { key: key('CaelusPhase'), value: INITIAL_PHASE },
          ],
          staticSummary: `Caelus deployment ${id}`,
        });
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (Date.now() - start) / 1000;
  const t1 = temporalPid ? readCpu(temporalPid) : undefined;
  await terminateAll(ctx.temporal, ids, 'bench: signalWithStart baseline');
  return {
    calls: latencies.length,
    p50_ms: round(percentile(latencies, 50), 1),
    p99_ms: round(percentile(latencies, 99), 1),
    rps: round(latencies.length / elapsed, 1),
    temporal_cpu: t0 && t1 ? round((t1.self - t0.self) / ((t1.at - t0.at) / 1000)) : NaN,
  };
}
