/**
 * Suspend and resume on the local stack (issue 15 §2): a suspended deployment takes values
 * changes and upgrades but applies nothing and records drift without correcting it; the
 * Temporal UI says it is suspended; resume converges at once; a delete never waits for a resume.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { DeploymentWorkflowState, SEARCH_ATTRIBUTES, stateQuery, workflowIdFor } from '../../libs/orchestration/src/contract';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

const DRIFT_INTERVAL_SECONDS = 5;

describe('suspend and resume (e2e)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let temporal: Client;
  let connection: Connection;
  let seed: Seeded;
  let owner: Record<string, string>;

  type Deployment = { id: string; deploymentUid: string; status: string; generation: number; observedGeneration: number; appliedTemplateId: string | null; lastError: string | null };
  const ready = (generation: number) => (d: { status: string; observedGeneration: number; generation: number }) =>
    d.status === 'ready' && d.observedGeneration === generation && d.generation === generation;
  const path = (d: { id: string }, suffix = '') => `/users/${seed.userId}/deployments/${d.id}${suffix}`;
  const configMap = (d: Deployment) => kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
  const workflow = (d: Deployment) => temporal.workflow.getHandle(workflowIdFor(d.deploymentUid));
  const phaseOf = async (d: Deployment) => (await workflow(d).describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase);
  /** The CaelusPhase search attribute, as the Temporal UI shows it, reaching `phase`. */
  const waitForPhase = (d: Deployment, phase: string) =>
    poll(
      `CaelusPhase ${phase}`,
      () => phaseOf(d),
      (p) => p === phase,
      30_000,
      250,
    );
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function create(title: string): Promise<Deployment> {
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(owner)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('susp')}.example.com`, values: { title } })
      .expect(202);
    await waitForStatus(api, seed.userId, res.body.id, ready(1));
    return res.body;
  }

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: String(DRIFT_INTERVAL_SECONDS), CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    seed = await seedCatalog(api, uniqueName('suspend'), ['1.0.0', '1.1.0']);
    owner = bearer(seed.userToken);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
  });

  it('holds back values, upgrades and drift corrections while suspended, and converges at once on resume', async () => {
    const d = await create('Before');

    // Suspend (the owner may): the response says so, the workflow shows it in the Temporal UI.
    const suspended = await api.http.post(path(d, '/suspend')).set(owner).send({ reason: 'maintenance window' }).expect(202);
    expect(suspended.body).toMatchObject({ suspended: true, suspendedReason: 'maintenance window', suspendedAt: expect.any(String), generation: 1, status: 'ready' });
    // The admin's list of all deployments (its own query) says so too: this suite's product only, since
    // the other suites sharing the database may hold more deployments than one page.
    const listed = await api.http.get(`/deployments?productId=${seed.productId}&limit=200`).set(bearer(api.adminToken)).expect(200);
    expect(listed.body.items.find((x: { id: string }) => x.id === d.id)).toMatchObject({ suspended: true, suspendedReason: 'maintenance window', suspendedAt: suspended.body.suspendedAt });
    await waitForPhase(d, 'suspended');
    // The phase is set as the workflow settles into the suspension; it holds the release (an
    // activity) before it waits, so `waitingFor` is filled a moment later.
    const state = await poll(
      'a suspended workflow waiting for a resume',
      () => workflow(d).query<DeploymentWorkflowState>(stateQuery),
      (x) => x.waitingFor !== null,
      30_000,
    );
    expect(state).toMatchObject({ phase: 'suspended', appliedGeneration: 1 });
    expect(state.waitingFor).toMatch(/^a resume \(suspended:/);
    // The UI's current details name what the workflow does right now: a drift check the cluster
    // watcher asked for may still be running, so wait for it to settle.
    const details = await poll(
      'current details of a suspended deployment',
      () => workflow(d).query<{ currentDetails: string }>('__temporal_workflow_metadata'),
      (m) => /phase suspended/.test(m.currentDetails),
      30_000,
    );
    expect(details.currentDetails).toMatch(/phase suspended/);
    // Idempotent: a second suspend writes no event.
    await api.http.post(path(d, '/suspend')).set(owner).send({}).expect(202);

    // Changes are accepted and wait; a ConfigMap deleted by hand stays deleted.
    const changed = await api.http
      .put(path(d))
      .set(owner)
      .send({ values: { title: 'While suspended' } })
      .expect(202);
    expect(changed.body).toMatchObject({ generation: 2, suspended: true });
    const upgraded = await api.http.post(path(d, '/upgrade')).set(bearer(api.adminToken)).send({ templateId: seed.templates['1.1.0'] }).expect(202);
    expect(upgraded.body).toMatchObject({ generation: 3, desiredTemplateId: seed.templates['1.1.0'] });
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });

    const found = await poll(
      'drift recorded while suspended',
      () => events(api, seed.userId, d.id),
      (evs) => evs.some((e) => e.type === 'drift-detected'),
      60_000,
    );
    const drift = found.filter((e) => e.type === 'drift-detected');
    expect(drift[0]).toMatchObject({ message: expect.stringContaining('not corrected: the deployment is suspended'), data: { corrected: false, suspended: true } });
    expect(drift[0].data.objects).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'ConfigMap', reason: 'missing' })]));
    // Three more drift intervals: still nothing applied or corrected, and the same drift is one event.
    await sleep(3 * DRIFT_INTERVAL_SECONDS * 1000 + 1000);
    const held = (await api.http.get(path(d)).set(owner).expect(200)).body;
    expect(held).toMatchObject({ generation: 3, observedGeneration: 1, appliedTemplateId: seed.templates['1.0.0'], suspended: true, drift: { drifted: true } });
    expect(await configMap(d)).toBeUndefined();
    const whileSuspended = await events(api, seed.userId, d.id);
    expect(whileSuspended.filter((e) => e.type === 'drift-detected')).toHaveLength(1);
    expect(whileSuspended.filter((e) => e.type === 'drift-corrected' || e.type === 'applied')).toHaveLength(1); // the first install only
    expect(whileSuspended.filter((e) => e.type === 'suspended')).toHaveLength(1);
    expect(await phaseOf(d)).toBe('suspended');

    // Resume: applied at once (no drift interval, no supervisor), with the value and the ConfigMap back.
    const resumedAt = Date.now();
    const resumed = await api.http.post(path(d, '/resume')).set(owner).expect(202);
    expect(resumed.body).toMatchObject({ suspended: false, suspendedAt: null, suspendedReason: null });
    // The resume's signal starts the apply: well before the next drift tick could have.
    await poll(
      'the apply to start',
      async () => (await workflow(d).query<DeploymentWorkflowState>(stateQuery)).phase,
      (p) => p !== 'suspended',
      DRIFT_INTERVAL_SECONDS * 1000,
      100,
    );
    const started = (Date.now() - resumedAt) / 1000;
    const converged = await waitForStatus(api, seed.userId, d.id, ready(3), 120_000);
    const seconds = (Date.now() - resumedAt) / 1000;
    expect(converged).toMatchObject({ appliedTemplateId: seed.templates['1.1.0'], lastError: null });
    const cm = await configMap(d);
    expect(cm?.data?.title).toBe('While suspended');
    await waitForPhase(d, 'ready');
    const timeline = (await events(api, seed.userId, d.id)).map((e) => e.type);
    expect(timeline.slice(0, 7)).toEqual(['created', 'applied', 'suspended', 'values-updated', 'upgrade-requested', 'drift-detected', 'resumed']);
    // A drift tick that loaded the row just after the resume may correct before the apply does.
    expect(timeline.slice(7)).toContain('applied');
    console.log(`suspend e2e: resume → apply started in ${started.toFixed(2)} s, ready at generation 3 in ${seconds.toFixed(1)} s`);
  });

  it('deletes a suspended deployment without waiting for a resume, and refuses to suspend or resume a deletion (409)', async () => {
    const d = await create('Doomed');
    await api.http.post(path(d, '/suspend')).set(bearer(api.adminToken)).send({}).expect(202);
    await waitForPhase(d, 'suspended');

    const deleting = await api.http.delete(path(d)).set(owner).expect(202);
    expect(deleting.body).toMatchObject({ status: 'deleting', suspended: false });
    const refused = await api.http.post(path(d, '/resume')).set(owner).expect(409);
    expect(refused.body.message).toMatch(/is (deleting|deleted): a deletion cannot be suspended or resumed/);
    await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'deleted', 120_000);
    expect(await kube.getNamespace(d.deploymentUid)).toBeUndefined();
    await api.http.post(path(d, '/suspend')).set(owner).send({}).expect(409);
    const timeline = (await events(api, seed.userId, d.id)).map((e) => e.type);
    expect(timeline).toEqual(['created', 'applied', 'suspended', 'delete-requested', 'deleted']);
  });

  it('answers bad input with a 4xx and writes nothing', async () => {
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(owner)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('susp-bad')}.example.com` })
      .expect(202);
    const d = res.body as Deployment;
    const bad = async (body: object, field: string) => {
      const r = await api.http.post(path(d, '/suspend')).set(owner).send(body).expect(400);
      expect(r.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    };
    await bad({ reason: 'x'.repeat(301) }, 'reason');
    await bad({ reason: 42 }, 'reason');
    await bad({ reason: null }, 'reason');
    await bad({ reason: 'a\u0007bell' }, 'reason');
    await bad({ suspended: true }, 'suspended');
    await api.http.post(`/users/${seed.userId}/deployments/not-a-uuid/suspend`).set(owner).send({}).expect(400);
    await api.http.post(`/users/${seed.userId}/deployments/00000000-0000-4000-8000-000000000000/resume`).set(owner).expect(404);
    // Resuming what is not suspended changes nothing.
    await api.http.post(path(d, '/resume')).set(owner).expect(202);
    expect((await events(api, seed.userId, d.id)).map((e) => e.type)).not.toContain('resumed');
    expect((await api.http.get(path(d)).set(owner).expect(200)).body).toMatchObject({ suspended: false, suspendedAt: null });
  });
});
