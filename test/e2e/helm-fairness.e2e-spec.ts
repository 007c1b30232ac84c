/**
 * Helm slots shared fairly between owners, on the local stack: a worker with one helm slot
 * (CAELUS_HELM_CONCURRENCY=1), one owner's queue of pending creations, then another owner's
 * single creation. With a FIFO queue the second owner's helm step waits for the whole queue; shared
 * fairly, it waits for at most the one release that holds the slot when it arrives. Measured at the
 * worker's helm slots (HelmRunner.onSlotGrant): no other step is handed the slot between the second
 * owner's step queueing and getting it. (Measuring from its activity's start also counts the database
 * and Kubernetes reads before the helm step, during which the slot may change hands once more.)
 */
import { INestApplicationContext } from '@nestjs/common';
import { HelmRunner, type SlotGrant } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

const QUEUED = 6;

describe('fair helm slots between owners (e2e)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let seed: Seeded;
  let admin: Record<string, string>;
  let other: { id: string; token: string };
  const created: { userId: string; id: string }[] = [];
  const grants: SlotGrant[] = [];
  const previousConcurrency = process.env.CAELUS_HELM_CONCURRENCY;

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_HELM_TIMEOUT: '120' });
    process.env.CAELUS_HELM_CONCURRENCY = '1';
    worker = await startWorker();
    worker.get(HelmRunner).onSlotGrant((g) => grants.push(g));
    seed = await seedCatalog(api, uniqueName('fair'), ['1.0.0']);
    admin = bearer(api.adminToken);
    const res = await api.http
      .post('/users')
      .set(admin)
      .send({ email: `${uniqueName('other')}@example.com` })
      .expect(201);
    other = { id: res.body.id, token: res.body.apiToken };
  });

  afterAll(async () => {
    for (const d of created) await api.http.delete(`/users/${d.userId}/deployments/${d.id}`).set(admin);
    for (const d of created) await waitForStatus(api, d.userId, d.id, (x) => x.status === 'deleted', 300_000).catch(() => undefined);
    await worker?.close();
    if (previousConcurrency === undefined) delete process.env.CAELUS_HELM_CONCURRENCY;
    else process.env.CAELUS_HELM_CONCURRENCY = previousConcurrency;
    await api?.close();
  });

  const create = async (userId: string, token: string) => {
    const res = await api.http
      .post(`/users/${userId}/deployments`)
      .set(bearer(token))
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('fair')}.example.com` })
      .expect(202);
    created.push({ userId, id: res.body.id });
    return res.body.id as string;
  };

  it(`lets another owner's single deployment wait for at most one of the first owner's ${QUEUED} helm steps`, async () => {
    const first: string[] = [];
    for (let i = 0; i < QUEUED; i++) first.push(await create(seed.userId, seed.userToken));
    // Let the first owner's workflows reach the helm step: one holds the slot, the rest wait for it.
    await new Promise((r) => setTimeout(r, 4000));
    const late = await create(other.id, other.token);

    const readyAt = new Map<string, number>();
    await poll(
      'every deployment ready',
      async () => {
        for (const d of created) {
          if (readyAt.has(d.id)) continue;
          const res = await api.http.get(`/users/${d.userId}/deployments/${d.id}`).set(admin).expect(200);
          if (res.body.status === 'error') throw new Error(`deployment ${d.id} failed: ${res.body.lastError}`);
          if (res.body.status === 'ready') readyAt.set(d.id, Date.now());
        }
        return readyAt.size;
      },
      (n) => n === created.length,
      QUEUED * 120_000,
      250,
    );
    const before = first.filter((id) => readyAt.get(id)! < readyAt.get(late)!);
    process.stderr.write(
      `[fairness] ready order: ${[...readyAt.entries()]
        .sort((a, b) => a[1] - b[1])
        .map(([id]) => (id === late ? 'B' : `A${first.indexOf(id)}`))
        .join(' ')}\n`,
    );
    expect(before.length).toBeLessThan(QUEUED);

    // Measured where fairness is promised, at the worker's helm slot: while the second owner's step
    // queued, no other step may be handed the slot first (the holder's running turn is the only wait).
    const lateGrants = grants.filter((g) => g.owner === other.id);
    process.stderr.write(`[fairness] second owner's slot grants: ${JSON.stringify(lateGrants)}; first owner's steps: ${grants.length - lateGrants.length}\n`);
    expect(lateGrants.length).toBeGreaterThanOrEqual(1);
    for (const g of lateGrants) expect(g.othersServedFirst).toBe(0);
    // And the first owner's steps did wait for each other: the measure is not vacuous.
    expect(Math.max(...grants.filter((g) => g.owner === seed.userId).map((g) => g.othersServedFirst))).toBeGreaterThanOrEqual(1);
  });
});
