/**
 * Fleet rollout (issue 15 §4): N deployments of a product of their own, all ready and healthy on
 * one version, then a rollout to a new version (the same chart with another default theme, so the
 * ConfigMap and the pods change) in waves [10%, 100%], timed from the POST until the rollout has
 * succeeded. Against it: N releases installed directly with helm (not timed), then upgraded to the
 * same values with direct `helm upgrade --wait` runs, as many at once as the rollout's second wave
 * holds. The rate of requests the kube-apiserver served is sampled every second on both sides.
 */
import { deleteNamespaces, waitNamespacesGone } from '../lib/cluster';
import { BenchContext, ChartVariant, pickChart, podsFit, USER_VALUES, waitAllReady } from '../lib/context';
import { ApiServerRate } from '../lib/apiserver-rate';
import { helmInstall, mergedValues } from '../lib/helm';
import { expectStatus } from '../lib/http';
import { log, mapLimit, round, sleep, summarize } from '../lib/util';

const WAVES = ['10%', '100%'];
/** Deployments created at once while the fleet is set up (not measured). */
const CREATE_CONCURRENCY = 25;

export async function fleetPhase(ctx: BenchContext) {
  const n = ctx.opts.quick ? 50 : 200;
  const keepHelm = await podsFit(ctx, 2 * n);
  if (!(await podsFit(ctx, n))) {
    // After a full run's earlier phases the cluster may be full: the other phases' figures still count.
    const skipped = `the cluster's nodes do not take ${n} more pods after the earlier phases; run it alone: --only fleet`;
    log(`fleet: skipped: ${skipped}`);
    return { n, skipped };
  }
  const variant: ChartVariant = await pickChart(ctx, keepHelm ? 2 * n : n, 'fleet');
  const chart = ctx.charts[variant];
  // The new version: another default theme (users set only the title), so the ConfigMap and, through its checksum, the pods change.
  const next = { ...chart, defaultValues: { ...chart.defaultValues, user: { ...(chart.defaultValues.user as Record<string, unknown>), theme: 'dark' } } };
  const secondWave = n - Math.ceil(n / 10);
  const rate = new ApiServerRate(ctx.kubectl.kubeconfig);
  await rate.start();
  try {
    // ---- direct helm: install (not timed), then upgrade `secondWave` at a time ----
    const releases = Array.from({ length: n }, (_, i) => `${ctx.prefix}-f${i}`);
    const domain = (i: number) => `f${i}-${ctx.runId}.bench.example.com`;
    log(`fleet: ${n} direct helm installs (not timed), then ${n} helm upgrades, ${secondWave} at once`);
    const installs = await mapLimit(releases, CREATE_CONCURRENCY, (release, i) => helmInstall(ctx.helm, chart, release, mergedValues(chart, USER_VALUES, release, domain(i))));
    const installFailed = installs.filter((r) => !r.ok);
    if (installFailed.length) throw new Error(`fleet: ${installFailed.length} helm installs failed, e.g. ${installFailed[0].error}`);
    await sleep(2_000);
    const h0 = Date.now();
    const upgrades = await mapLimit(releases, secondWave, (release, i) => helmInstall(ctx.helm, next, release, mergedValues(next, USER_VALUES, release, domain(i))));
    const h1 = Math.max(...upgrades.map((r) => r.endedAt));
    const helmWall = h1 - h0;
    const helmFailed = upgrades.filter((r) => !r.ok);
    if (helmFailed.length) log(`  ${helmFailed.length} helm upgrades failed, e.g. ${helmFailed[0].error}`);
    log(`  helm: ${(helmWall / 1000).toFixed(1)} s`);
    if (!keepHelm) {
      log(`  (deleting the helm releases first: the cluster does not take ${2 * n} more pods)`);
      await deleteNamespaces(ctx.kubectl, releases);
      await waitNamespacesGone(ctx.kubectl, releases, 600_000);
    }

    // ---- Caelus: a product of its own with both versions, N deployments ready and healthy ----
    const product = await expectStatus(ctx.api.request<{ id: string }>('POST', '/products', { name: `${ctx.prefix}-fleet` }), 201, 'create fleet product');
    const template = async (version: string, c: typeof chart) =>
      (
        await expectStatus(
          ctx.api.request<{ id: string }>('POST', `/products/${product.id}/templates`, {
            version,
            chartRef: c.dir,
            chartVersion: c.version,
            defaultValues: c.defaultValues,
            valuesSchema: c.valuesSchema,
          }),
          201,
          `create fleet template ${version}`,
        )
      ).id;
    const from = await template('1.0.0', chart);
    const to = await template('1.0.1', next);
    const user = await expectStatus(ctx.api.request<{ id: string }>('POST', '/users', { email: `fleet@${ctx.prefix}.example.com` }), 201, 'create fleet user');
    log(`  caelus: creating ${n} deployments (not timed)`);
    const ids = await mapLimit(Array.from({ length: n }), CREATE_CONCURRENCY, async (_x, i) => {
      const body = await expectStatus(
        ctx.api.request<{ id: string }>('POST', `/users/${user.id}/deployments`, { templateId: from, domainName: `c${domain(i)}`, values: USER_VALUES }),
        202,
        'create fleet deployment',
      );
      return body.id;
    });
    await waitAllReady(ctx, ids, 30 * 60_000, 250);
    // What the rollout waits for: ready and healthy at the generation (health comes right after the apply).
    await waitHealthy(ctx, ids, 10 * 60_000);
    await sleep(2_000);

    log(`  caelus: rollout of ${n} deployments in waves ${JSON.stringify(WAVES)}`);
    const c0 = Date.now();
    const rollout = await expectStatus(
      ctx.api.request<{ id: string }>('POST', `/products/${product.id}/rollouts`, { toTemplateId: to, waves: WAVES, healthTimeoutSeconds: 1800 }),
      202,
      'create rollout',
    );
    const status = await waitRolloutEnded(ctx, rollout.id, 60 * 60_000);
    const c1 = Date.now();
    const caelusWall = c1 - c0;
    log(`  caelus: rollout ${status} in ${(caelusWall / 1000).toFixed(1)} s`);
    if (status !== 'succeeded') throw new Error(`fleet: the rollout ended ${status}`);

    const timeline = await rolloutTimeline(ctx, rollout.id, c0);
    const members = await memberTimes(ctx, rollout.id);
    return {
      n,
      waves: WAVES,
      wave_sizes: [n - secondWave, secondWave],
      concurrency: secondWave,
      chart: variant === 'example' ? 'charts/examples/webapp-1.0.0' : 'charts/examples/webapp-1.0.0, Service headless',
      change: 'a new template version: the same chart with the default user.theme light → dark (ConfigMap and pod template change)',
      helm_releases_deleted_before_caelus_side: !keepHelm,
      helm_wall_s: round(helmWall / 1000),
      caelus_wall_s: round(caelusWall / 1000),
      ratio: round(caelusWall / helmWall),
      target: 1.3,
      helm_failed: helmFailed.length,
      helm_upgrade_ms: summarize(upgrades.map((r) => r.ms)),
      apiserver_requests: {
        note: 'kube-apiserver apiserver_request_total (all verbs, resources, codes), sampled every second: every client of the shared cluster is in it',
        helm_side: rate.window(h0, h1),
        caelus_side: rate.window(c0, c1),
      },
      where_the_time_goes: {
        note: 'seconds from the POST of the rollout; member_ms: per wave, from when the rollout sent a member through the upgrade path until its apply was recorded (applied_ms), the worker first saw it healthy at the new generation (healthy_ms) and the rollout judged it upgraded (judged_upgraded_ms; the workflow looks every 5 s)',
        timeline,
        member_ms: members,
      },
    };
  } finally {
    await rate.stop();
  }
}

async function waitHealthy(ctx: BenchContext, ids: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await ctx.db.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM deployments WHERE id = ANY($1) AND status = 'ready' AND generation = observed_generation
          AND (health IS NULL OR (health->>'status' = 'healthy' AND (health->>'generation')::int = generation))`,
      [ids],
    );
    if (Number(res.rows[0].n) === ids.length) return;
    if (Date.now() > end) throw new Error(`fleet: ${ids.length - Number(res.rows[0].n)} deployments not healthy after ${timeoutMs / 1000}s`);
    await sleep(500);
  }
}

async function waitRolloutEnded(ctx: BenchContext, id: string, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const res = await ctx.db.client.query<{ status: string }>('SELECT status FROM rollouts WHERE id = $1', [id]);
    const status = res.rows[0]?.status;
    if (status && status !== 'running' && status !== 'paused') return status;
    if (Date.now() > end) throw new Error(`fleet: the rollout did not end within ${timeoutMs / 1000}s`);
    if (Date.now() - lastLog > 15_000) {
      const counts = await ctx.db.client.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM rollout_members WHERE rollout_id = $1 GROUP BY state', [id]);
      log(`    ${counts.rows.map((r) => `${r.state} ${r.n}`).join(', ')}`);
      lastLog = Date.now();
    }
    await sleep(250);
  }
}

/** The rollout's events, in seconds from its POST. */
async function rolloutTimeline(ctx: BenchContext, id: string, c0: number): Promise<{ event: string; at_s: number }[]> {
  const res = await ctx.db.client.query<{ type: string; message: string; created_at: Date }>('SELECT type, message, created_at FROM rollout_events WHERE rollout_id = $1 ORDER BY id', [id]);
  return res.rows.map((r) => ({ event: r.type === 'wave-started' ? r.message : r.type, at_s: round((r.created_at.getTime() - c0) / 1000, 1) }));
}

/**
 * Per wave, from when the rollout sent a member through the upgrade path: when its apply was
 * recorded (ready at the new generation), when the worker first saw it healthy at that generation,
 * and when the rollout judged it upgraded.
 */
async function memberTimes(ctx: BenchContext, id: string) {
  const res = await ctx.db.client.query<{ wave: number; applied: number | null; healthy: number | null; judged: number }>(
    `SELECT m.wave,
            EXTRACT(EPOCH FROM (d.last_reconcile_at - m.started_at)) * 1000 AS applied,
            CASE WHEN d.health->>'status' = 'healthy' THEN EXTRACT(EPOCH FROM ((d.health->>'since')::timestamptz - m.started_at)) * 1000 END AS healthy,
            EXTRACT(EPOCH FROM (m.updated_at - m.started_at)) * 1000 AS judged
       FROM rollout_members m JOIN deployments d ON d.id = m.deployment_id
      WHERE m.rollout_id = $1 AND m.state = 'upgraded'`,
    [id],
  );
  const waves = [...new Set(res.rows.map((r) => r.wave))].sort((a, b) => a - b);
  const stat = (rows: typeof res.rows, k: 'applied' | 'healthy' | 'judged') => summarize(rows.map((r) => Number(r[k])).filter((v) => Number.isFinite(v)));
  return Object.fromEntries(
    waves.map((w) => {
      const rows = res.rows.filter((r) => r.wave === w);
      return [`wave_${w + 1}`, { applied_ms: stat(rows, 'applied'), healthy_ms: stat(rows, 'healthy'), judged_upgraded_ms: stat(rows, 'judged') }];
    }),
  );
}
