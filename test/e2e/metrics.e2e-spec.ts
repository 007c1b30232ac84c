/**
 * /metrics on the API (deployments by status, read from Postgres on every scrape) and the
 * worker's metrics fed by a real workflow run: provisioning and upgrade durations, activity
 * failures. The suite has a database of its own, so the counts are exact.
 */
import { INestApplicationContext } from '@nestjs/common';
import { WorkerMetrics } from '../../libs/observability/src';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, exampleTemplate, seedCatalog, startSuite, TestUser, uniqueDomain } from '../support/e2e';
import { poll, startWorker, waitForStatus } from '../support/lifecycle';

describe('metrics (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let catalog: Catalog;
  let user: TestUser;
  let admin: Record<string, string>;
  const created: string[] = [];

  const scrape = async () => {
    const res = await api.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8/);
    return res.text;
  };
  const workerMetrics = () => worker!.get(WorkerMetrics).registry.metrics();
  const deploy = async (templateId: string) => {
    const res = await api.http
      .post(`/users/${user.id}/deployments`)
      .set(admin)
      .send({ templateId, domainName: uniqueDomain('metrics') })
      .expect(202);
    created.push(res.body.id);
    return res.body as { id: string; deploymentUid: string };
  };

  beforeAll(async () => {
    suite = await startSuite({ CAELUS_HELM_TIMEOUT: '120' });
    api = suite.api;
    admin = bearer(api.adminToken);
    catalog = await seedCatalog(api, 'metrics', { '1.0.0': '1.0.0' });
    user = await createUser(api, 'metrics');
  });

  afterAll(async () => {
    // Leave no namespace behind: delete what the suite created and let the worker finish.
    for (const id of created) await api.http.delete(`/users/${user.id}/deployments/${id}`).set(admin);
    if (worker) {
      for (const id of created) await waitForStatus(api, user.id, id, (d) => d.status === 'deleted', 120_000).catch(() => undefined);
      await worker.close();
    }
    await suite?.close();
  });

  it('answers anonymously in the Prometheus text format, every name prefixed caelus_', async () => {
    const text = await scrape();
    expect(text).toContain('# TYPE caelus_deployments gauge');
    expect(text).toContain('caelus_deployments{status="ready"} 0');
    expect(text).toContain('caelus_process_resident_memory_bytes');
    const names = text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/[{ ]/)[0]);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !n.startsWith('caelus_'))).toEqual([]);
  });

  it('is not part of the OpenAPI document', async () => {
    const doc = await api.http.get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
  });

  it('counts deployments by status from Postgres on every scrape', async () => {
    await deploy(catalog.templates['1.0.0']);
    expect(await scrape()).toContain('caelus_deployments{status="provisioning"} 1');
  });

  it('observes the provisioning time on the worker once the deployment is ready', async () => {
    worker = await startWorker();
    const [id] = created;
    await waitForStatus(api, user.id, id, (d) => d.status === 'ready');

    const text = await scrape();
    expect(text).toContain('caelus_deployments{status="ready"} 1');
    expect(text).toContain('caelus_deployments{status="provisioning"} 0');
    expect(await workerMetrics()).toContain(`caelus_deployment_provisioning_duration_seconds_count{product="${catalog.productName}"} 1`);
  });

  it('observes a values change as an upgrade with trigger=values', async () => {
    const [id] = created;
    await api.http
      .put(`/users/${user.id}/deployments/${id}`)
      .set(admin)
      .send({ values: { title: 'Changed' } })
      .expect(202);
    await waitForStatus(api, user.id, id, (d) => d.status === 'ready' && d.observedGeneration === 2);
    expect(await workerMetrics()).toContain(`caelus_deployment_upgrade_duration_seconds_count{product="${catalog.productName}",trigger="values"} 1`);
  });

  it('counts a failed helm install by activity and failure type', async () => {
    // The template's own schema is lax, the chart's is not: helm refuses the values (replicas > 5).
    const body: Record<string, unknown> = { ...exampleTemplate('1.0.0', '1.0.1'), valuesSchema: { type: 'object' } };
    body.defaultValues = { ...(body.defaultValues as Record<string, unknown>), replicas: 9 };
    const template = await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(body).expect(201);
    const d = await deploy(template.body.id);
    await waitForStatus(api, user.id, d.id, (x) => x.status === 'error');

    const text = await poll('the failure counter', workerMetrics, (t) => t.includes('type="InvalidValues"'), 10_000);
    expect(text).toContain('caelus_activity_failures_total{activity="applyRelease",type="InvalidValues",non_retryable="true"} 1');
    expect(await scrape()).toContain('caelus_deployments{status="error"} 1');
  });
});
