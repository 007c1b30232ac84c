/**
 * A template whose chart lives in the OCI registry, pinned by digest: the API accepts it, the
 * worker installs exactly that artifact, and a wrong digest ends in a clear, non-retried error.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { INestApplicationContext } from '@nestjs/common';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, exampleChart, REPO, startWorker, waitForStatus } from '../support/lifecycle';

const run = promisify(execFile);

async function pushChart(version: string, repo: string, tmp: string): Promise<{ ref: string; digest: string }> {
  const helm = process.env.HELM_BIN!;
  const packaged = await run(helm, ['package', join(REPO, 'charts', 'examples', `webapp-${version}`), '-d', tmp]);
  const tgz = /saved it to: (\S+)/.exec(packaged.stdout)![1];
  const pushed = await run(helm, ['push', tgz, repo, '--plain-http']);
  const out = `${pushed.stdout}\n${pushed.stderr}`;
  return { ref: `${repo}/webapp`, digest: /Digest:\s*(sha256:[0-9a-f]{64})/.exec(out)![1] };
}

describe('charts from the OCI registry, pinned by digest', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let tmp: string;

  beforeAll(async () => {
    api = await startTestApi();
    worker = await startWorker();
    tmp = mkdtempSync(join(tmpdir(), 'caelus-oci-'));
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('installs the digest-pinned chart and refuses a digest that does not match', async () => {
    const admin = bearer(api.adminToken);
    const repo = `oci://${process.env.CAELUS_OCI_REGISTRY}/${uniqueName('e2e')}`;
    const chart = await pushChart('1.0.0', repo, tmp);
    const { defaultValues, valuesSchema } = exampleChart('1.0.0');

    const product = await api.http
      .post('/products')
      .set(admin)
      .send({ name: uniqueName('oci') })
      .expect(201);
    const good = await api.http
      .post(`/products/${product.body.id}/templates`)
      .set(admin)
      .send({ version: '1.0.0', chartRef: chart.ref, chartVersion: '1.0.0', chartDigest: chart.digest, defaultValues, valuesSchema })
      .expect(201);
    const wrongDigest = `sha256:${'0'.repeat(64)}`;
    const bad = await api.http
      .post(`/products/${product.body.id}/templates`)
      .set(admin)
      .send({ version: '1.0.1', chartRef: chart.ref, chartVersion: '1.0.0', chartDigest: wrongDigest, defaultValues, valuesSchema })
      .expect(201);
    // Without a digest an oci:// template is refused: versions are pinned by digest.
    await api.http.post(`/products/${product.body.id}/templates`).set(admin).send({ version: '1.0.2', chartRef: chart.ref, chartVersion: '1.0.0' }).expect(400);

    const user = await api.http
      .post('/users')
      .set(admin)
      .send({ email: `${uniqueName('oci')}@example.com` })
      .expect(201);
    const ok = await api.http
      .post(`/users/${user.body.id}/deployments`)
      .set(admin)
      .send({ templateId: good.body.id, domainName: `${uniqueName('oci')}.example.com` })
      .expect(202);
    const broken = await api.http
      .post(`/users/${user.body.id}/deployments`)
      .set(admin)
      .send({ templateId: bad.body.id, domainName: `${uniqueName('oci')}.example.com` })
      .expect(202);

    await waitForStatus(api, user.body.id, ok.body.id, (d) => d.status === 'ready' && d.observedGeneration === 1);
    const failed = await waitForStatus(api, user.body.id, broken.body.id, (d) => d.status === 'error', 180_000);
    expect(failed.lastError).toMatch(/not found|digest|manifest/i);
    expect((await events(api, user.body.id, broken.body.id)).filter((e) => e.type === 'error')).toHaveLength(1);

    for (const d of [ok.body, broken.body]) await api.http.delete(`/users/${user.body.id}/deployments/${d.id}`).set(admin).expect(202);
    for (const d of [ok.body, broken.body]) await waitForStatus(api, user.body.id, d.id, (x) => x.status === 'deleted', 180_000);
  });
});
