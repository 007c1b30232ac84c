/**
 * 1) Overhead: POST …/deployments until `ready`, against a direct `helm upgrade --install --wait`
 * of the same chart and values. Runs alternate (helm, Caelus, helm, Caelus …) so that slow
 * moments of the shared machine hit both sides alike; one warm-up pair is not counted.
 */
import { breakdowns, meanBreakdown } from '../lib/breakdown';
import { BenchContext, createDeployment, domainFor, pickChart, podsFit, USER_VALUES, waitAllReady } from '../lib/context';
import { helmInstall, mergedValues } from '../lib/helm';
import { log, median, percentile, round, summarize } from '../lib/util';

export async function overheadPhase(ctx: BenchContext) {
  const runs = ctx.opts.overheadRuns;
  const helmMs: number[] = [];
  const caelusMs: number[] = [];
  const recordedMs: number[] = [];
  const items: Parameters<typeof breakdowns>[1] = [];
  // Both sides' releases stay until the clean-up (deleting namespaces would load the cluster
  // during later measurements), so both need ClusterIPs.
  const variant = await pickChart(ctx, 2 * (runs + 1), 'overhead');
  if (!(await podsFit(ctx, 2 * (runs + 1)))) throw new Error(`overhead: the cluster's nodes do not take ${2 * (runs + 1)} more pods; use fewer --runs`);
  const chart = ctx.charts[variant];
  log(`overhead: ${runs} runs each (+1 warm-up pair), alternating helm and Caelus`);
  for (let i = -1; i < runs; i++) {
    const release = `${ctx.prefix}-o${i < 0 ? 'w' : i}`;
    const h = await helmInstall(ctx.helm, chart, release, mergedValues(chart, USER_VALUES, release, domainFor(ctx, 100_000 + i + 1)));
    if (!h.ok) throw new Error(`helm baseline ${release} failed: ${h.error}`);
    const d = await createDeployment(ctx, variant);
    const ready = (await waitAllReady(ctx, [d.id], 300_000, 50)).get(d.id)!;
    if (i < 0) continue;
    helmMs.push(h.ms);
    caelusMs.push(ready.observedAt - d.postStartedAt);
    recordedMs.push(ready.recordedAt - d.postStartedAt);
    items.push({ d, ready });
    if ((i + 1) % 5 === 0) log(`  ${i + 1}/${runs}: helm ${h.ms} ms, caelus ${ready.observedAt - d.postStartedAt} ms`);
  }
  const mb = meanBreakdown(await breakdowns(ctx.temporal, items));
  const pairRatios = caelusMs.map((c, i) => c / helmMs[i]);
  return {
    runs,
    chart: variant === 'example' ? 'charts/examples/webapp-1.0.0' : 'charts/examples/webapp-1.0.0, Service headless',
    helm_ms: summarize(helmMs),
    caelus_ms: summarize(caelusMs),
    caelus_recorded_ms: summarize(recordedMs),
    ratio_median: round(median(caelusMs) / median(helmMs)),
    ratio_p95: round(percentile(caelusMs, 95) / percentile(helmMs, 95)),
    pairwise_ratio_median: round(median(pairRatios)),
    target: 1.25,
    mean_breakdown_ms: mb,
    samples: { helm_ms: helmMs, caelus_ms: caelusMs },
  };
}
