/**
 * The three sides of the peer benchmark, behind one shape so that every figure is measured the
 * same way on each: Flux driven directly (HelmReleases applied with kubectl, as a Flux user
 * would), Caelus with the helm backend and Caelus with the Flux backend (through the API, as a
 * Caelus user would). A release is named like its namespace on every side, so a manual change
 * (`<release>-config`, Deployment `<release>`) is made the same way everywhere.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deleteNamespaces, waitNamespacesGone } from './cluster';
import { BenchContext, USER_VALUES, waitAllReady } from './context';
import { mergedValues } from './helm';
import { expectStatus } from './http';
import type { PeerChart, PeerChartKey } from './peer-charts';
import { REPO } from './procs';
import { log, mapLimit, sleep } from './util';

const run = promisify(execFile);

export type SideName = 'flux' | 'caelus_helm' | 'caelus_flux';

export interface Batch {
  releases: string[];
  startedAt: number;
  /** When each release was first seen ready (empty when not waited for). */
  readyAt: Map<string, number>;
}

export interface PeerSide {
  readonly name: SideName;
  readonly description: string;
  /** Creates `count` releases of `chart`, `concurrency` requests in flight; waits until they are ready unless `wait` is false. */
  create(chart: PeerChartKey, count: number, opts: { concurrency: number; wait: boolean }): Promise<Batch>;
  /** Moves the releases to the `next` chart all at once; resolves when every one is ready on it. */
  upgrade(releases: string[]): Promise<Batch & { extra?: Record<string, unknown> }>;
  /** Deletes the releases; with `wait`, until their namespaces are gone. */
  remove(releases: string[], wait: boolean): Promise<void>;
  /** The processes whose CPU and memory are this side's cost. */
  pids(): Record<string, number>;
}

const FLUX_LABEL = 'caelus-bench-peer';
/** Above this many releases a readiness poll lists less often (the list itself is load on the API server). */
const MANY = 250;

function pidOf(name: string): number {
  return Number(readFileSync(join(REPO, '.local', 'pids', `${name}.pid`), 'utf8').trim());
}

export function fluxControllerPids(): Record<string, number> {
  return { helm_controller: pidOf('flux-helm-controller'), source_controller: pidOf('flux-source-controller') };
}

interface FluxRelease {
  metadata: { name: string; namespace: string };
  status?: {
    lastAttemptedRevision?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Flux driven directly: per release a Namespace, an OCIRepository pinned by digest and a HelmRelease, applied with kubectl. */
export class FluxSide implements PeerSide {
  readonly name = 'flux';
  readonly description: string;
  private index = 0;

  constructor(
    private readonly ctx: BenchContext,
    private readonly charts: Record<PeerChartKey, PeerChart>,
    private readonly tmp: string,
    private readonly intervalSeconds: number,
  ) {
    this.description = `helm-controller and source-controller from the stack (--concurrent=10), HelmRelease interval ${intervalSeconds} s, driftDetection enabled, timeout 5m, remediation retries -1 (a Flux user's "retry forever")`;
  }

  private kubectl(args: string[]) {
    return run(join(this.ctx.kubectl.toolsBin, 'kubectl'), ['--kubeconfig', this.ctx.kubectl.kubeconfig, ...args], { maxBuffer: 512 * 1024 * 1024 });
  }

  private source(ns: string, chart: PeerChart) {
    return {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'chart', namespace: ns },
      spec: { url: chart.ref, insecure: true, interval: '60m', layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' }, ref: { digest: chart.digest } },
    };
  }

  /** kubectl apply of many documents, 300 to a file (one huge file makes one slow client-side pass). */
  private async apply(docs: object[]): Promise<void> {
    for (let i = 0; i < docs.length; i += 300) {
      const file = join(this.tmp, `flux-${this.index}-${i}.json`);
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs.slice(i, i + 300) }));
      await this.kubectl(['apply', '-f', file]);
    }
  }

  async create(key: PeerChartKey, count: number, opts: { wait: boolean }): Promise<Batch> {
    const chart = this.charts[key];
    const releases = Array.from({ length: count }, () => `${this.ctx.prefix}-f${this.index++}`);
    const docs = releases.flatMap((ns, i) => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'caelus-bench': this.ctx.prefix } } },
      this.source(ns, chart),
      {
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name: ns, namespace: ns, labels: { [FLUX_LABEL]: this.ctx.prefix } },
        spec: {
          interval: `${this.intervalSeconds}s`,
          timeout: '5m',
          chartRef: { kind: 'OCIRepository', name: 'chart' },
          driftDetection: { mode: 'enabled' },
          install: { remediation: { retries: -1 } },
          upgrade: { remediation: { retries: -1 } },
          values: mergedValues(chart, USER_VALUES, ns, `${ns}-${i}.bench.example.com`),
        },
      },
    ]);
    const startedAt = Date.now();
    // All at once, as a pipeline applying a directory would (the top-up's concurrency limit is Caelus's POSTs in flight).
    await this.apply(docs);
    const readyAt = opts.wait ? await this.waitReady(releases, startedAt, () => true) : new Map<string, number>();
    return { releases, startedAt, readyAt };
  }

  async upgrade(releases: string[]): Promise<Batch> {
    const next = this.charts.next;
    const startedAt = Date.now();
    await this.apply(releases.map((ns) => this.source(ns, next)));
    const readyAt = await this.waitReady(releases, startedAt, (hr) => (hr.status?.lastAttemptedRevision ?? '').startsWith(`${next.version}+`) || hr.status?.lastAttemptedRevision === next.version);
    return { releases, startedAt, readyAt };
  }

  private async waitReady(releases: string[], startedAt: number, at: (hr: FluxRelease) => boolean): Promise<Map<string, number>> {
    const wanted = new Set(releases);
    const readyAt = new Map<string, number>();
    let lastLog = Date.now();
    while (readyAt.size < releases.length) {
      if (Date.now() - startedAt > 30 * 60_000) throw new Error(`peer/flux: ${releases.length - readyAt.size} HelmReleases not ready after 30 min`);
      const list = JSON.parse((await this.kubectl(['get', 'helmreleases', '-A', '-l', `${FLUX_LABEL}=${this.ctx.prefix}`, '-o', 'json'])).stdout) as { items: FluxRelease[] };
      const now = Date.now();
      for (const hr of list.items) {
        if (!wanted.has(hr.metadata.name) || readyAt.has(hr.metadata.name)) continue;
        if (hr.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && at(hr)) readyAt.set(hr.metadata.name, now);
      }
      if (now - lastLog > 15_000) {
        log(`    ${readyAt.size}/${releases.length} ready`);
        lastLog = now;
      }
      await sleep(releases.length > MANY ? 2000 : 250);
    }
    return readyAt;
  }

  async remove(releases: string[], wait: boolean): Promise<void> {
    // The namespace's deletion waits on the HelmRelease's finalizer: helm-controller uninstalls first.
    await deleteNamespaces(this.ctx.kubectl, releases);
    if (wait && !(await waitNamespacesGone(this.ctx.kubectl, releases, 20 * 60_000))) log('  peer/flux: some namespaces were still there after 20 min');
  }

  pids(): Record<string, number> {
    return fluxControllerPids();
  }
}

/** Caelus through its API: a product of its own with a template per chart, one user, a deployment per release. */
export class CaelusSide implements PeerSide {
  readonly name: SideName;
  readonly description: string;
  private templates = {} as Record<PeerChartKey, string>;
  private productId = '';
  private userId = '';
  private index = 0;
  /** release (deployment uid) → deployment id */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly ctx: BenchContext,
    private readonly charts: Record<PeerChartKey, PeerChart>,
    readonly backend: 'helm' | 'flux',
  ) {
    this.name = backend === 'helm' ? 'caelus_helm' : 'caelus_flux';
    this.description =
      backend === 'helm'
        ? `the bench's worker (CAELUS_DRIFT_INTERVAL=${ctx.opts.driftIntervalSeconds}, cluster watcher on), templates pinned by digest in the local registry`
        : `the bench's worker projecting each deployment to an OCIRepository + HelmRelease (interval CAELUS_FLUX_INTERVAL = ${process.env.CAELUS_FLUX_INTERVAL ?? ctx.opts.driftIntervalSeconds} s, driftDetection.mode ${process.env.CAELUS_FLUX_DRIFT_DETECTION || 'enabled'}) that the stack's helm-controller installs as the tenant`;
  }

  async setUp(): Promise<void> {
    const api = this.ctx.api;
    const product = await expectStatus(api.request<{ id: string }>('POST', '/products', { name: `${this.ctx.prefix}-${this.name.replace('_', '-')}` }), 201, `create ${this.name} product`);
    this.productId = product.id;
    for (const key of Object.keys(this.charts) as PeerChartKey[]) {
      const chart = this.charts[key];
      const template = await expectStatus(
        api.request<{ id: string }>('POST', `/products/${product.id}/templates`, {
          version: chart.templateVersion,
          chartRef: chart.ref,
          chartDigest: chart.digest,
          chartVersion: chart.version,
          defaultValues: chart.defaultValues,
          valuesSchema: chart.valuesSchema,
          ...(this.backend === 'flux' ? { capabilities: { backend: 'flux' } } : {}),
        }),
        201,
        `create ${this.name} template ${chart.templateVersion}`,
      );
      this.templates[key] = template.id;
    }
    const user = await expectStatus(api.request<{ id: string }>('POST', '/users', { email: `${this.name.replace('_', '-')}@${this.ctx.prefix}.example.com` }), 201, `create ${this.name} user`);
    this.userId = user.id;
  }

  async create(key: PeerChartKey, count: number, opts: { concurrency: number; wait: boolean }): Promise<Batch> {
    const startedAt = Date.now();
    const made = await mapLimit(Array.from({ length: count }), opts.concurrency, async () => {
      const i = this.index++;
      const body = await expectStatus(
        this.ctx.api.request<{ id: string; deploymentUid: string }>('POST', `/users/${this.userId}/deployments`, {
          templateId: this.templates[key],
          domainName: `${this.name.replace('_', '-')}-${i}-${this.ctx.runId}.bench.example.com`,
          values: USER_VALUES,
        }),
        202,
        `create ${this.name} deployment`,
      );
      this.ids.set(body.deploymentUid, body.id);
      return body;
    });
    const releases = made.map((d) => d.deploymentUid);
    const readyAt = new Map<string, number>();
    if (opts.wait) {
      const ready = await waitAllReady(
        this.ctx,
        made.map((d) => d.id),
        30 * 60_000,
        count > MANY ? 1000 : 250,
      );
      for (const d of made) readyAt.set(d.deploymentUid, ready.get(d.id)!.observedAt);
    }
    return { releases, startedAt, readyAt };
  }

  /** A fleet rollout of every deployment on `base` to `next` in one wave. Ready = ready with `next` applied, as Flux's Ready after the upgrade. */
  async upgrade(releases: string[]): Promise<Batch & { extra: Record<string, unknown> }> {
    const ids = releases.map((r) => this.ids.get(r)!);
    const startedAt = Date.now();
    const rollout = await expectStatus(
      this.ctx.api.request<{ id: string }>('POST', `/products/${this.productId}/rollouts`, {
        toTemplateId: this.templates.next,
        fromTemplateIds: [this.templates.base],
        waves: ['100%'],
        healthTimeoutSeconds: 1800,
      }),
      202,
      `create ${this.name} rollout`,
    );
    const readyAt = new Map<string, number>();
    let rolloutEnded: { status: string; at: number } | undefined;
    let lastLog = Date.now();
    while (readyAt.size < ids.length || !rolloutEnded) {
      if (Date.now() - startedAt > 60 * 60_000) throw new Error(`peer/${this.name}: the rollout did not end within an hour`);
      const rows = await this.ctx.db.client.query<{ deployment_uid: string }>(
        `SELECT deployment_uid FROM deployments WHERE id = ANY($1) AND status = 'ready' AND applied_template_id = $2 AND observed_generation = generation`,
        [ids, this.templates.next],
      );
      const now = Date.now();
      for (const r of rows.rows) if (!readyAt.has(r.deployment_uid)) readyAt.set(r.deployment_uid, now);
      if (!rolloutEnded) {
        const status = (await this.ctx.db.client.query<{ status: string }>('SELECT status FROM rollouts WHERE id = $1', [rollout.id])).rows[0]?.status;
        if (status && status !== 'running' && status !== 'paused') rolloutEnded = { status, at: now };
      }
      if (now - lastLog > 15_000) {
        log(`    ${readyAt.size}/${ids.length} ready on ${this.charts.next.version}`);
        lastLog = now;
      }
      await sleep(250);
    }
    if (rolloutEnded.status !== 'succeeded') throw new Error(`peer/${this.name}: the rollout ended ${rolloutEnded.status}`);
    return { releases, startedAt, readyAt, extra: { rollout_succeeded_after_s: Math.round((rolloutEnded.at - startedAt) / 100) / 10 } };
  }

  async remove(releases: string[], wait: boolean): Promise<void> {
    const ids = releases.map((r) => this.ids.get(r)!);
    await mapLimit(ids, 20, (id) => expectStatus(this.ctx.api.request('DELETE', `/users/${this.userId}/deployments/${id}`), 202, `delete ${this.name} deployment`));
    if (!wait) return;
    const end = Date.now() + 30 * 60_000;
    for (;;) {
      const left = Number((await this.ctx.db.client.query<{ n: string }>(`SELECT count(*) AS n FROM deployments WHERE id = ANY($1) AND status <> 'deleted'`, [ids])).rows[0].n);
      if (left === 0) break;
      if (Date.now() > end) {
        log(`  peer/${this.name}: ${left} deployments not deleted after 30 min`);
        break;
      }
      await sleep(1000);
    }
    if (!(await waitNamespacesGone(this.ctx.kubectl, releases, 20 * 60_000))) log(`  peer/${this.name}: some namespaces were still there after 20 min`);
  }

  pids(): Record<string, number> {
    if (!this.ctx.worker) throw new Error('peer: the bench has no worker');
    return { worker: this.ctx.worker.pid, ...(this.backend === 'flux' ? fluxControllerPids() : {}) };
  }
}
