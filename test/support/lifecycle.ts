import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parse as parseYaml } from 'yaml';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { bearer, TestApi } from './api';

export const REPO = resolve(__dirname, '..', '..');
export const execFileAsync = promisify(execFile);

/** Chart directory, default values and schema of an example chart version. */
export function exampleChart(version: string) {
  const dir = join(REPO, 'charts', 'examples', `webapp-${version}`);
  return {
    chartRef: dir,
    chartVersion: version,
    defaultValues: parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>,
    valuesSchema: JSON.parse(readFileSync(join(dir, 'values.schema.json'), 'utf8')) as Record<string, unknown>,
  };
}

/**
 * The release backend the lifecycle suites publish their templates for: `CAELUS_TEST_BACKEND`
 * (`helm`, the default, or `flux`; `npm run test:flux` runs the lifecycle suite with `flux`).
 */
export const TEST_BACKEND: 'helm' | 'flux' = process.env.CAELUS_TEST_BACKEND === 'flux' ? 'flux' : 'helm';

let pushTo: { repo: string; tmp: string } | undefined;
const pushed = new Map<string, { ref: string; digest: string }>();

/** An example chart version packaged and pushed to the stack's OCI registry (once per process): its oci:// ref and digest. */
export async function pushExampleChart(version: string): Promise<{ ref: string; digest: string }> {
  const known = pushed.get(version);
  if (known) return known;
  pushTo ??= { repo: `oci://${process.env.CAELUS_OCI_REGISTRY}/lifecycle-${randomBytes(3).toString('hex')}`, tmp: mkdtempSync(join(tmpdir(), 'caelus-charts-')) };
  const helm = process.env.HELM_BIN!;
  const packaged = await execFileAsync(helm, ['package', join(REPO, 'charts', 'examples', `webapp-${version}`), '-d', pushTo.tmp]);
  const tgz = /saved it to: (\S+)/.exec(packaged.stdout)![1];
  const out = await execFileAsync(helm, ['push', tgz, pushTo.repo, '--plain-http']);
  const chart = { ref: `${pushTo.repo}/webapp`, digest: /Digest:\s*(sha256:[0-9a-f]{64})/.exec(`${out.stdout}\n${out.stderr}`)![1] };
  pushed.set(version, chart);
  return chart;
}

/**
 * A template's body for an example chart version on a backend (TEST_BACKEND unless named): the
 * chart's directory for helm; for flux the chart pushed to the local registry, pinned by digest,
 * `capabilities.backend: flux`.
 */
export async function exampleTemplate(version: string, backend: 'helm' | 'flux' = TEST_BACKEND): Promise<Record<string, unknown>> {
  const local = exampleChart(version);
  if (backend === 'helm') return local;
  const chart = await pushExampleChart(version);
  return { ...local, chartRef: chart.ref, chartDigest: chart.digest, capabilities: { backend: 'flux' } };
}

/**
 * The real worker module in this process, on the test API's task queue. Its supervisor is off
 * unless asked for: it would adopt every unfinished deployment other suites left in the database.
 */
export async function startWorker(options: { supervisor?: boolean } = {}): Promise<INestApplicationContext> {
  process.env.CAELUS_SUPERVISOR_INTERVAL = options.supervisor ? '5' : '0';
  // No metrics listeners: suites run workers side by side, and tests of other checkouts share the ports.
  process.env.CAELUS_WORKER_METRICS_PORT = '0';
  process.env.CAELUS_TEMPORAL_METRICS_PORT = '0';
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'], abortOnError: false });
  await app.init();
  return app;
}

export async function poll<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 180_000, everyMs = 1000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

export interface Seeded {
  userId: string;
  userToken: string;
  productId: string;
  templates: Record<string, string>;
}

/** A product with templates for the given example chart versions (on TEST_BACKEND unless named), and a user. */
export async function seedCatalog(api: TestApi, productName: string, versions: string[], backend: 'helm' | 'flux' = TEST_BACKEND): Promise<Seeded> {
  const admin = bearer(api.adminToken);
  const product = await api.http.post('/products').set(admin).send({ name: productName }).expect(201);
  const templates: Record<string, string> = {};
  for (const v of versions) {
    const t = await api.http
      .post(`/products/${product.body.id}/templates`)
      .set(admin)
      .send({ version: v, ...(await exampleTemplate(v, backend)) })
      .expect(201);
    templates[v] = t.body.id;
  }
  const user = await api.http
    .post('/users')
    .set(admin)
    .send({ email: `${productName}@example.com` })
    .expect(201);
  return { userId: user.body.id, userToken: user.body.apiToken, productId: product.body.id, templates };
}

export async function waitForStatus(
  api: TestApi,
  userId: string,
  deploymentId: string,
  ok: (d: { status: string; observedGeneration: number; generation: number; lastError: string | null }) => boolean,
  timeoutMs = 240_000,
) {
  return poll(`deployment ${deploymentId}`, async () => (await api.http.get(`/users/${userId}/deployments/${deploymentId}`).set(bearer(api.adminToken))).body, ok, timeoutMs);
}

export async function events(api: TestApi, userId: string, deploymentId: string): Promise<{ type: string; actor: string; message: string; data: Record<string, unknown> }[]> {
  const res = await api.http.get(`/users/${userId}/deployments/${deploymentId}/events?limit=100`).set(bearer(api.adminToken)).expect(200);
  return res.body.items;
}
