/**
 * Helm slots shared fairly between owners, on the local stack: a worker with one helm slot
 * (CAELUS_HELM_CONCURRENCY=1), one owner's queue of pending creations, then another owner's
 * single creation. With a FIFO queue the second owner's helm step waits for the whole queue; shared
 * fairly, it waits for at most the one release that holds the slot when it arrives. Measured from
 * the workflows' histories: of the first owner's applyRelease activities, at most one finishes while
 * the second owner's runs (from its start, when it queues for the slot, to its completion).
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
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
  const previousConcurrency = process.env.CAELUS_HELM_CONCURRENCY;

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_HELM_TIMEOUT: '120' });
    process.env.CAELUS_HELM_CONCURRENCY = '1';
    worker = await startWorker();
    seed = await seedCatalog(api, uniqueName('fair'), ['1.0.0']);
    admin = bearer(api.adminToken);
    const res = await api.http.post('/users').set(admin).send({ email: `${uniqueName('other')}@example.com` }).expect(201);
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
    const res = await api.http.post(`/users/${userId}/deployments`).set(bearer(token)).send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('fair')}.example.com` }).expect(202);
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
    process.stderr.write(`[fairness] ready order: ${[...readyAt.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => (id === late ? 'B' : `A${first.indexOf(id)}`)).join(' ')}\n`);
    expect(before.length).toBeLessThan(QUEUED);

    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
      const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
      /** When the deployment's applyRelease activity started (and queued for a helm slot) and when it completed. */
      const applyWindow = async (userId: string, id: string) => {
        const d = (await api.http.get(`/users/${userId}/deployments/${id}`).set(admin).expect(200)).body as { workflow: { id: string } };
        const events = (await temporal.workflow.getHandle(d.workflow.id).fetchHistory()).events ?? [];
        const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'applyRelease');
        const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled?.eventId));
        const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled?.eventId));
        if (!started || !completed) throw new Error(`deployment ${id}: no completed applyRelease in its history`);
        return { start: ms(started.eventTime), end: ms(completed.eventTime) };
      };
      const b = await applyWindow(other.id, late);
      const a = await Promise.all(first.map((id) => applyWindow(seed.userId, id)));
      const servedMeanwhile = a.filter((w) => w.end > b.start && w.end < b.end).length;
      process.stderr.write(`[fairness] the first owner's applies that finished while the second owner's waited and ran: ${servedMeanwhile}\n`);
      expect(servedMeanwhile).toBeLessThanOrEqual(1);
    } finally {
      await connection.close();
    }
  });
});
