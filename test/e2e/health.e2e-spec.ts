/**
 * Health beyond install time on the local stack (issue 15 §1): a ready deployment whose workloads
 * stay unhealthy longer than the grace becomes degraded (row, event, CaelusPhase) with a reason
 * naming the object, and ready again once they are healthy, without an apply. The test chart's
 * `held` value gives its pods a scheduling gate: helm --wait passes (maxUnavailable 1 of 1), the
 * pod stays Pending and the Deployment unavailable; removing the gate from the pod heals it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { WorkerMetrics } from '../../libs/observability/src';
import { SEARCH_ATTRIBUTES, workflowIdFor } from '../../libs/orchestration/src/contract';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { createUser } from '../support/e2e';
import { events, poll, REPO, startWorker, waitForStatus } from '../support/lifecycle';

const GRACE_SECONDS = 5;
const DRIFT_INTERVAL_SECONDS = 5;
const CHART = join(REPO, 'charts', 'examples', 'webapp-health-1.0.0');

interface Health {
  status: string;
  reason: string | null;
  generation: number;
  since: string;
  objects: { kind: string; name: string; status: string; reason: string | null }[];
}
type Deployment = { id: string; deploymentUid: string; status: string; generation: number; observedGeneration: number; health: Health | null };

describe('health beyond install time (e2e)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let temporal: Client;
  let connection: Connection;
  let userId: string;
  let owner: Record<string, string>;
  let templateId: string;
  let productName: string;

  const path = (d: { id: string }) => `/users/${userId}/deployments/${d.id}`;
  const phaseOf = async (d: Deployment) => (await temporal.workflow.getHandle(workflowIdFor(d.deploymentUid)).describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase);
  /** Ready and healthy at generation N: what a rollout waits for. */
  const readyAndHealthy = (generation: number) => (d: Deployment) =>
    d.status === 'ready' && d.generation === generation && d.observedGeneration === generation && d.health?.status === 'healthy' && d.health.generation === generation;

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: String(DRIFT_INTERVAL_SECONDS), CAELUS_HEALTH_GRACE: String(GRACE_SECONDS), CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    const admin = bearer(api.adminToken);
    const name = uniqueName('health');
    productName = name;
    const product = await api.http.post('/products').set(admin).send({ name }).expect(201);
    const template = await api.http
      .post(`/products/${product.body.id}/templates`)
      .set(admin)
      .send({
        version: '1.0.0',
        chartRef: CHART,
        chartVersion: '1.0.0',
        defaultValues: parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')),
        valuesSchema: JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')),
      })
      .expect(201);
    templateId = template.body.id;
    const user = await createUser(api, 'health');
    userId = user.id;
    owner = bearer(user.token);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
  });

  it('goes ready → degraded (naming the object) → ready, with events, CaelusPhase and the health in the response', async () => {
    const created = await api.http
      .post(`/users/${userId}/deployments`)
      .set(owner)
      .send({ templateId, domainName: `${uniqueName('health')}.example.com`, values: { title: 'Healthy' } })
      .expect(202);
    const d = created.body as Deployment;
    const healthy = await waitForStatus(api, userId, d.id, readyAndHealthy(1) as never, 180_000);
    expect(healthy).toMatchObject({ health: { status: 'healthy', reason: null, generation: 1, objects: [] } });

    // Held pods: the apply succeeds (ready at generation 2), then the workloads never become available.
    const heldAt = Date.now();
    await api.http
      .put(path(d))
      .set(owner)
      .send({ values: { title: 'Held', held: true } })
      .expect(202);
    const degraded = (await waitForStatus(api, userId, d.id, (x) => x.status === 'degraded' && x.generation === 2, 120_000)) as unknown as Deployment;
    const seconds = (Date.now() - heldAt) / 1000;
    expect(degraded.observedGeneration).toBe(2);
    expect(degraded.health).toMatchObject({ status: expect.stringMatching(/^(progressing|unhealthy)$/), generation: 2 });
    expect(degraded.health!.reason).toMatch(new RegExp(`^Deployment/${d.deploymentUid}-web: 0 of 1 replicas available`));
    expect(degraded.health!.objects).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'Deployment', name: `${d.deploymentUid}-web` }), expect.objectContaining({ kind: 'Pod', reason: 'not scheduled (SchedulingGated)' })]),
    );
    await poll(
      'CaelusPhase degraded',
      () => phaseOf(d),
      (p) => p === 'degraded',
      30_000,
      250,
    );
    const afterDegrade = await events(api, userId, d.id);
    const degradedEvents = afterDegrade.filter((e) => e.type === 'degraded');
    expect(degradedEvents).toHaveLength(1);
    expect(degradedEvents[0].message).toMatch(new RegExp(`^degraded: Deployment/${d.deploymentUid}-web: 0 of 1 replicas available.*\\(not healthy for more than ${GRACE_SECONDS} s\\)$`));
    // Degraded only after the grace, never before.
    expect(seconds).toBeGreaterThanOrEqual(GRACE_SECONDS);

    // Heal it by hand (no apply): take the scheduling gate off the pod; KWOK runs it.
    const pods = await kube.list<KubeObject & { spec?: { schedulingGates?: unknown[] } }>('v1', 'Pod', { namespace: d.deploymentUid });
    const held = pods.filter((p) => p.spec?.schedulingGates?.length);
    expect(held).toHaveLength(1);
    const healedAt = Date.now();
    await kube.mergePatch({ apiVersion: 'v1', kind: 'Pod', name: held[0].metadata.name, namespace: d.deploymentUid }, { spec: { schedulingGates: null } });
    const recovered = (await waitForStatus(api, userId, d.id, readyAndHealthy(2) as never, 120_000)) as unknown as Deployment;
    const recoverSeconds = (Date.now() - healedAt) / 1000;
    expect(recovered.health).toMatchObject({ status: 'healthy', reason: null, objects: [] });
    await poll(
      'CaelusPhase ready',
      () => phaseOf(d),
      (p) => p === 'ready',
      30_000,
      250,
    );
    const metrics = await worker.get(WorkerMetrics).registry.metrics();
    expect(metrics).toContain(`caelus_deployment_health_changes_total{product="${productName}",phase="degraded"} 1`);
    expect(metrics).toContain(`caelus_deployment_health_changes_total{product="${productName}",phase="ready"} 1`);
    const timeline = (await events(api, userId, d.id)).map((e) => e.type);
    expect(timeline).toEqual(['created', 'applied', 'values-updated', 'applied', 'degraded', 'recovered']);
    console.log(`health e2e: degraded ${seconds.toFixed(1)} s after the held values change (grace ${GRACE_SECONDS} s); ready again ${recoverSeconds.toFixed(1)} s after the pod was released`);
  });
});
