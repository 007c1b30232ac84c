/**
 * The peer benchmark (`npm run bench -- --peer flux`): on the same cluster, chart and N, in one run,
 * Caelus with the helm backend against Flux driven directly (HelmReleases applied with kubectl, as a
 * Flux user would). Flux runs from the local stack (`--with-flux`) with as many concurrent reconciles
 * as the worker has helm slots, and its HelmRelease interval set to Caelus's drift interval, so both
 * sides look for drift equally often. Measured here: (1) N new deployments at once, time until all
 * are ready; (3) a deleted ConfigMap, time until it is back (p50/p95); (4) memory of the controllers
 * and of the worker with N live. Figures are Caelus/Flux ratios with both raw values.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureStack } from '../../scripts/stack';
import { deleteNamespaces, waitNamespacesGone } from '../lib/cluster';
import { BenchContext, createAllAtOnce, domainFor, pickChart, podsFit, USER_VALUES } from '../lib/context';
import { mergedValues } from '../lib/helm';
import { readMemory, REPO } from '../lib/procs';
import { log, mapLimit, round, sleep, summarize } from '../lib/util';

const run = promisify(execFile);

interface FluxRelease {
  metadata: { name: string; namespace: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export async function peerPhase(ctx: BenchContext) {
  const n = ctx.opts.throughputN;
  const changes = ctx.opts.quick ? 10 : 20;
  const interval = ctx.opts.driftIntervalSeconds;
  log(`peer: bringing Flux up (stack:up --only flux)`);
  await ensureStack({ only: ['flux'], log: (l) => log(`  ${l}`) });
  if (!(await podsFit(ctx, n))) throw new Error(`peer: the cluster's nodes do not take ${n} more pods; use a smaller --throughput`);
  const variant = await pickChart(ctx, n, 'peer');
  const chart = ctx.charts[variant];
  const kubectl = (args: string[]) => run(join(ctx.kubectl.toolsBin, 'kubectl'), ['--kubeconfig', ctx.kubectl.kubeconfig, ...args], { maxBuffer: 256 * 1024 * 1024 });

  // The same chart, pushed to the local registry: Flux pulls it by digest, as Caelus pins it.
  const tmp = mkdtempSync(join(tmpdir(), 'caelus-bench-peer-'));
  const helmEnv = { ...process.env, ...ctx.helm.env };
  const packaged = await run(ctx.helm.helmBin, ['package', chart.dir, '-d', tmp], { env: helmEnv });
  const tgz = /saved it to: (\S+)/.exec(packaged.stdout)![1];
  const repo = `oci://${ctx.stack.CAELUS_OCI_REGISTRY}/${ctx.prefix}`;
  const pushed = await run(ctx.helm.helmBin, ['push', tgz, repo, '--plain-http'], { env: helmEnv });
  const digest = /Digest:\s*(sha256:[0-9a-f]{64})/.exec(`${pushed.stdout}\n${pushed.stderr}`)![1];

  // --- Flux, driven directly --------------------------------------------------------------------
  const names = Array.from({ length: n }, (_, i) => `${ctx.prefix}-f${i}`);
  const label = `caelus-bench=${ctx.prefix}`;
  const docs = names.map((ns, i) =>
    [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'caelus-bench': ctx.prefix } } },
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: 'chart', namespace: ns },
        spec: { url: `${repo}/webapp`, insecure: true, interval: '10m', layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' }, ref: { digest } },
      },
      {
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name: ns, namespace: ns, labels: { 'caelus-bench': ctx.prefix } },
        spec: {
          interval: `${interval}s`,
          chartRef: { kind: 'OCIRepository', name: 'chart' },
          driftDetection: { mode: 'enabled' },
          install: { timeout: '5m', remediation: { retries: 3 } },
          values: mergedValues(chart, USER_VALUES, ns, domainFor(ctx, 300_000 + i)),
        },
      },
    ]
      .map((d) => JSON.stringify(d))
      .join('\n---\n'),
  );
  const manifest = join(tmp, 'flux.yaml');
  writeFileSync(manifest, docs.join('\n---\n'));
  log(`peer: ${n} Flux HelmReleases at once`);
  const f0 = Date.now();
  await kubectl(['apply', '-f', manifest]);
  const fluxApplied = Date.now() - f0;
  const fluxReadyAt = new Map<string, number>();
  while (fluxReadyAt.size < n) {
    if (Date.now() - f0 > 30 * 60_000) throw new Error(`peer: ${n - fluxReadyAt.size} HelmReleases not ready after 30 min`);
    const list = JSON.parse((await kubectl(['get', 'helmreleases', '-A', '-l', label, '-o', 'json'])).stdout) as { items: FluxRelease[] };
    const now = Date.now();
    for (const hr of list.items) {
      const cond = (type: string) => hr.status?.conditions?.find((c) => c.type === type);
      if (!fluxReadyAt.has(hr.metadata.name) && cond('Ready')?.status === 'True') fluxReadyAt.set(hr.metadata.name, now);
      // Stalled: Flux gave up on it (retries exhausted); waiting longer measures nothing.
      if (cond('Stalled')?.status === 'True') throw new Error(`peer: HelmRelease ${hr.metadata.namespace}/${hr.metadata.name} stalled: ${JSON.stringify(hr.status?.conditions)}`);
    }
    await sleep(250);
  }
  const fluxWall = Math.max(...fluxReadyAt.values()) - f0;
  log(`  flux: ${(fluxWall / 1000).toFixed(1)} s`);
  const fluxMemory = controllersMemory();
  const fluxDrift = await driftCorrections(kubectl, names.slice(0, changes), interval);
  log(`  flux: ConfigMap back after p50 ${fluxDrift.median} ms`);
  log('  deleting the Flux releases (HelmRelease finalizers uninstall them) and their namespaces');
  await kubectl(['delete', 'helmreleases', '-A', '-l', label, '--wait=true', '--timeout=600s']).catch((err: Error) => log(`  ${err.message}`));
  await deleteNamespaces(ctx.kubectl, names);
  await waitNamespacesGone(ctx.kubectl, names, 600_000);

  // --- Caelus, helm backend ---------------------------------------------------------------------
  log(`peer: ${n} Caelus deployments at once`);
  await sleep(2_000);
  const { created, ready, startedAt: c0, wallMs: caelusWall } = await createAllAtOnce(ctx, n, variant);
  log(`  caelus: ${(caelusWall / 1000).toFixed(1)} s`);
  const workerMemory = ctx.worker ? round(readMemory(ctx.worker.pid).rssMb, 1) : NaN;
  const caelusDrift = await driftCorrections(
    kubectl,
    created.slice(0, changes).map((d) => d.deploymentUid),
    interval,
  );
  log(`  caelus: ConfigMap back after p50 ${caelusDrift.median} ms`);
  rmSync(tmp, { recursive: true, force: true });

  const fluxRss = round(fluxMemory.helm_controller + fluxMemory.source_controller, 1);
  return {
    n,
    chart: variant === 'example' ? 'charts/examples/webapp-1.0.0' : 'charts/examples/webapp-1.0.0, Service headless',
    flux: {
      versions: 'helm-controller v1.6.4, source-controller v1.9.6 (from the stack, --concurrent=10, UseHelm3Defaults)',
      note: 'HelmRelease interval = the drift interval; OCIRepository pinned by digest in the local registry; ready = the HelmRelease Ready condition, polled every 250 ms',
      ready_wall_s: round(fluxWall / 1000),
      apply_ms: fluxApplied,
      ready_ms: summarize([...fluxReadyAt.values()].map((t) => t - f0)),
      drift_correction_ms: fluxDrift,
      rss_mb: fluxMemory,
    },
    caelus: {
      ready_wall_s: round(caelusWall / 1000),
      ready_ms: summarize([...ready.values()].map((r) => r.observedAt - c0)),
      drift_correction_ms: caelusDrift,
      worker_rss_mb: workerMemory,
    },
    ratios: {
      note: 'Caelus / Flux; targets: ready and drift correction <= 1.0, memory <= 0.5',
      ready_wall: round(caelusWall / fluxWall),
      drift_correction_p50: round(caelusDrift.median / fluxDrift.median),
      drift_correction_p95: round(caelusDrift.p95 / fluxDrift.p95),
      memory: round(workerMemory / fluxRss),
    },
    drift_interval_s: interval,
    changes,
  };
}

/** RSS of the stack's Flux controllers (from their pid files). */
function controllersMemory(): { helm_controller: number; source_controller: number } {
  const rss = (name: string) => {
    try {
      return round(readMemory(Number(readFileSync(join(REPO, '.local', 'pids', `${name}.pid`), 'utf8').trim())).rssMb, 1);
    } catch {
      return NaN;
    }
  };
  return { helm_controller: rss('flux-helm-controller'), source_controller: rss('flux-source-controller') };
}

/**
 * Deletes the ConfigMap `<release>-config` of each release (namespace = release name on both sides)
 * at once and measures, per release, the time until it exists again.
 */
async function driftCorrections(kubectl: (args: string[]) => Promise<{ stdout: string }>, releases: string[], intervalS: number) {
  const timeoutMs = (2 * intervalS + 120) * 1000;
  const times = await mapLimit(releases, releases.length, async (r) => {
    const t0 = Date.now();
    await kubectl(['delete', 'configmap', `${r}-config`, '-n', r, '--wait=false']);
    for (;;) {
      const got = await kubectl(['get', 'configmap', `${r}-config`, '-n', r, '--ignore-not-found', '-o', 'name']);
      if (got.stdout.trim()) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) return NaN;
      await sleep(500);
    }
  });
  const ok = times.filter((t) => Number.isFinite(t));
  return { ...summarize(ok), not_corrected: times.length - ok.length };
}
