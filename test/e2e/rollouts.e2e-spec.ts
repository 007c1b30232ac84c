/**
 * Fleet rollouts on the local stack (issue 15 §3): a rollout of 20 deployments in three waves
 * succeeds; a target version whose apply fails halts after the first wave with the rest
 * untouched; pause, resume and abort work from REST and from raw Temporal signals (a malformed
 * one is recorded and changes nothing); manual approval waits for a resume between waves; a member
 * deleted during the rollout is skipped and a deployment created during it keeps its template.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../libs/orchestration/src/contract';
import { rolloutWorkflowIdFor } from '../../libs/orchestration/src/rollout-contract';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, exampleChart, poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

const FLEET = 20;

type Rollout = {
  id: string;
  status: string;
  reason: string | null;
  currentWave: number | null;
  total: number | null;
  waveCounts: { wave: number; size: number; pending: number; upgrading: number; upgraded: number; failed: number; skipped: number }[];
  events?: { type: string; actor: string; message: string }[];
};
type Deployment = { id: string; status: string; generation: number; observedGeneration: number; desiredTemplateId: string; appliedTemplateId: string | null };

describe('fleet rollouts (e2e)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let temporal: Client;
  let connection: Connection;
  let admin: Record<string, string>;

  const ready = (d: { status: string; observedGeneration: number; generation: number }) => d.status === 'ready' && d.observedGeneration === d.generation;
  const rolloutsPath = (productId: string) => `/products/${productId}/rollouts`;
  const getRollout = async (productId: string, id: string): Promise<Rollout> =>
    (
      await api.http
        .get(`${rolloutsPath(productId)}/${id}`)
        .set(admin)
        .expect(200)
    ).body;
  const waitForRollout = (productId: string, id: string, ok: (r: Rollout) => boolean, what: string, timeoutMs = 300_000) =>
    poll(`rollout ${what}`, () => getRollout(productId, id), ok, timeoutMs, 500);
  const getDeployment = async (seed: Seeded, id: string): Promise<Deployment> => (await api.http.get(`/users/${seed.userId}/deployments/${id}`).set(admin).expect(200)).body;
  const phaseOf = async (id: string) => (await temporal.workflow.getHandle(rolloutWorkflowIdFor(id)).describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase);

  async function fleet(seed: Seeded, n: number, version = '1.0.0'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await api.http
        .post(`/users/${seed.userId}/deployments`)
        .set(bearer(seed.userToken))
        .send({ templateId: seed.templates[version], domainName: `${uniqueName('fleet')}.example.com`, values: { title: `n${i}` } })
        .expect(202);
      ids.push(res.body.id);
    }
    await Promise.all(ids.map((id) => waitForStatus(api, seed.userId, id, ready, 300_000)));
    return ids;
  }

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    admin = bearer(api.adminToken);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
  });

  it(`upgrades ${FLEET} deployments in three waves, then halts a failing version after its first wave with the rest untouched`, async () => {
    const seed = await seedCatalog(api, uniqueName('fleet'), ['1.0.0', '1.1.0']);
    const ids = await fleet(seed, FLEET);
    // A version whose apply fails: its defaults pass the template's (permissive) schema, but not the chart's own.
    const base = exampleChart('1.1.0');
    const broken = await api.http
      .post(`/products/${seed.productId}/templates`)
      .set(admin)
      .send({ version: '1.2.0', ...base, valuesSchema: { type: 'object' }, defaultValues: { ...base.defaultValues, replicas: 7 } })
      .expect(201);

    // Bad input is refused with the field named; an owner may not start a rollout.
    const bad = await api.http
      .post(rolloutsPath(seed.productId))
      .set(admin)
      .send({ toTemplateId: seed.templates['1.1.0'], waves: [1, 'ten'] })
      .expect(400);
    expect(bad.body.fields).toEqual([expect.objectContaining({ field: 'waves[1]' })]);
    await api.http.post(rolloutsPath(seed.productId)).set(bearer(seed.userToken)).send({ toTemplateId: seed.templates['1.1.0'] }).expect(403);

    const started = Date.now();
    const created = await api.http
      .post(rolloutsPath(seed.productId))
      .set(admin)
      .send({ toTemplateId: seed.templates['1.1.0'], waves: [1, '25%', '100%'], healthTimeoutSeconds: 240 })
      .expect(202);
    expect(created.body).toMatchObject({ status: 'running', toTemplateId: seed.templates['1.1.0'], waves: [1, '25%', '100%'], maxFailures: 0, approval: 'auto' });
    // One running rollout per product.
    const second = await api.http.post(rolloutsPath(seed.productId)).set(admin).send({ toTemplateId: seed.templates['1.1.0'] }).expect(409);
    expect(second.body.message).toMatch(/already has a running rollout/);

    const done = await waitForRollout(seed.productId, created.body.id, (r) => r.status !== 'running', 'to end');
    const seconds = (Date.now() - started) / 1000;
    expect(done).toMatchObject({ status: 'succeeded', total: FLEET, currentWave: 3 });
    expect(done.waveCounts).toEqual([
      { wave: 1, size: 1, pending: 0, upgrading: 0, upgraded: 1, failed: 0, skipped: 0 },
      { wave: 2, size: 4, pending: 0, upgrading: 0, upgraded: 4, failed: 0, skipped: 0 },
      { wave: 3, size: 15, pending: 0, upgrading: 0, upgraded: 15, failed: 0, skipped: 0 },
    ]);
    expect(done.events!.map((e) => e.type)).toEqual(['created', 'selected', 'wave-started', 'wave-started', 'wave-started', 'succeeded']);
    expect(await phaseOf(created.body.id)).toBe('succeeded');
    for (const id of ids) expect(await getDeployment(seed, id)).toMatchObject({ status: 'ready', appliedTemplateId: seed.templates['1.1.0'] });
    const evs = await events(api, seed.userId, ids[0]);
    expect(evs).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'upgrade-requested', actor: `rollout:${created.body.id}` }), expect.objectContaining({ type: 'rollout-upgraded' })]));
    // The list shows it; the product is free for the next rollout.
    const listed = await api.http.get(rolloutsPath(seed.productId)).set(admin).expect(200);
    expect(listed.body.items.map((r: Rollout) => r.id)).toEqual([created.body.id]);
    console.log(`rollout of ${FLEET} deployments in 3 waves took ${seconds.toFixed(1)}s`);

    // The failing version: the first wave's one member fails, the rollout halts, the others stay on 1.1.0.
    const failing = await api.http
      .post(rolloutsPath(seed.productId))
      .set(admin)
      .send({ toTemplateId: broken.body.id, waves: [1, '100%'], healthTimeoutSeconds: 240 })
      .expect(202);
    const halted = await waitForRollout(seed.productId, failing.body.id, (r) => r.status !== 'running', 'to halt');
    expect(halted).toMatchObject({ status: 'failed', currentWave: 1, reason: expect.stringMatching(/1 deployment\(s\) failed/) });
    expect(halted.waveCounts).toEqual([
      { wave: 1, size: 1, pending: 0, upgrading: 0, upgraded: 0, failed: 1, skipped: 0 },
      { wave: 2, size: FLEET - 1, pending: FLEET - 1, upgrading: 0, upgraded: 0, failed: 0, skipped: 0 },
    ]);
    expect((await events(api, seed.userId, ids[0])).some((e) => e.type === 'rollout-failed')).toBe(true);
    for (const id of ids.slice(1)) expect(await getDeployment(seed, id)).toMatchObject({ status: 'ready', desiredTemplateId: seed.templates['1.1.0'], appliedTemplateId: seed.templates['1.1.0'] });
  });

  it('waits for approval between waves, and takes pause, resume and abort from REST and from raw signals', async () => {
    const seed = await seedCatalog(api, uniqueName('gate'), ['1.0.0', '1.1.0']);
    const ids = await fleet(seed, 5);
    const path = rolloutsPath(seed.productId);

    // Manual approval: paused after each wave until resumed.
    const r = (
      await api.http
        .post(path)
        .set(admin)
        .send({ toTemplateId: seed.templates['1.1.0'], waves: [1, 2, '100%'], approval: 'manual' })
        .expect(202)
    ).body as Rollout;
    let seen = await waitForRollout(seed.productId, r.id, (x) => x.status === 'paused', 'paused for approval of wave 2');
    expect(seen).toMatchObject({ currentWave: 1, reason: expect.stringMatching(/approval/) });
    expect(seen.waveCounts.map((w) => w.upgraded)).toEqual([1, 0, 0]);
    await poll(
      'CaelusPhase paused',
      () => phaseOf(r.id),
      (p) => p === 'paused',
      30_000,
      250,
    );
    await api.http.post(`${path}/${r.id}/pause`).set(admin).expect(409);

    // A malformed raw signal is recorded and changes nothing.
    const handle = temporal.workflow.getHandle(rolloutWorkflowIdFor(r.id));
    await handle.signal('resume', { requestedBy: 'ops', extra: 'x' });
    await poll(
      'signal-rejected event',
      () => getRollout(seed.productId, r.id),
      (x) => x.events!.some((e) => e.type === 'signal-rejected'),
      30_000,
      250,
    );
    expect((await getRollout(seed.productId, r.id)).status).toBe('paused');

    // REST resume: wave 2 runs, then it waits again.
    await api.http.post(`${path}/${r.id}/resume`).set(admin).expect(202);
    seen = await waitForRollout(seed.productId, r.id, (x) => x.status === 'paused' && x.currentWave === 2, 'paused for approval of wave 3');
    expect(seen.waveCounts.map((w) => w.upgraded)).toEqual([1, 1, 0]);

    // Meanwhile a member of wave 3 is deleted (it will be skipped) and a new deployment is created (it keeps its template).
    const deleted = ids[4];
    await api.http.delete(`/users/${seed.userId}/deployments/${deleted}`).set(admin).expect(202);
    const late = (await fleet(seed, 1))[0];

    // Raw resume, then a raw pause is taken at the next checkpoint; REST abort ends it.
    await handle.signal('resume', { requestedBy: 'ops@example.com' });
    await waitForRollout(seed.productId, r.id, (x) => x.status !== 'paused', 'resumed by a raw signal', 60_000);
    const end = await waitForRollout(seed.productId, r.id, (x) => x.status === 'succeeded', 'to succeed');
    expect(end).toMatchObject({ total: 5 });
    expect(end.waveCounts.map((w) => [w.upgraded, w.skipped])).toEqual([
      [1, 0],
      [1, 0],
      [2, 1],
    ]);
    expect(end.events!.filter((e) => e.type === 'running').map((e) => e.actor)).toEqual(['admin', 'ops@example.com']);
    for (const id of ids.slice(0, 4)) expect(await getDeployment(seed, id)).toMatchObject({ status: 'ready', appliedTemplateId: seed.templates['1.1.0'] });
    expect((await events(api, seed.userId, deleted)).filter((e) => e.type === 'rollout-skipped')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('the deployment is being deleted') }),
    ]);
    expect(await getDeployment(seed, late)).toMatchObject({ status: 'ready', desiredTemplateId: seed.templates['1.0.0'], generation: 1 });

    // Pause from a raw signal during the pause between waves, then abort from REST: the rest stays untouched.
    const gate = await seedCatalog(api, uniqueName('abort'), ['1.0.0', '1.1.0']);
    const gated = await fleet(gate, 3);
    const a = (
      await api.http
        .post(rolloutsPath(gate.productId))
        .set(admin)
        .send({ toTemplateId: gate.templates['1.1.0'], waves: [1, '100%'], pauseBetweenWavesSeconds: 600 })
        .expect(202)
    ).body as Rollout;
    await waitForRollout(gate.productId, a.id, (x) => x.waveCounts[0]?.upgraded === 1, 'wave 1 upgraded');
    await temporal.workflow.getHandle(rolloutWorkflowIdFor(a.id)).signal('pause');
    await waitForRollout(gate.productId, a.id, (x) => x.status === 'paused', 'paused by a raw signal', 60_000);
    await api.http
      .post(`${rolloutsPath(gate.productId)}/${a.id}/abort`)
      .set(admin)
      .expect(202);
    const aborted = await waitForRollout(gate.productId, a.id, (x) => x.status === 'aborted', 'aborted', 60_000);
    expect(aborted).toMatchObject({ reason: 'aborted by admin', currentWave: 1 });
    expect(aborted.waveCounts.map((w) => [w.upgraded, w.pending])).toEqual([
      [1, 0],
      [0, 2],
    ]);
    for (const id of gated.slice(1)) expect(await getDeployment(gate, id)).toMatchObject({ desiredTemplateId: gate.templates['1.0.0'], generation: 1 });
    await api.http
      .post(`${rolloutsPath(gate.productId)}/${a.id}/resume`)
      .set(admin)
      .expect(409);
  });
});
