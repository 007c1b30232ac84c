/**
 * The API commits first and signals second. If the workflow never started (the API died in
 * between) or was lost, the worker's supervisor must start it, so the deployment converges.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { bearer, createScratchDatabase, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, seedCatalog, startWorker, waitForStatus } from '../support/lifecycle';

describe('supervisor', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let connection: Connection;
  let temporal: Client;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    // Its own database: the supervisor adopts every unfinished deployment it can see.
    scratch = await createScratchDatabase('caelus_sup');
    api = await startTestApi({ DATABASE_URL: scratch.url });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
    await scratch?.drop();
  });

  it('starts the workflow of a deployment whose workflow is gone, and it converges; a deployment deleted before its first apply ends deleted', async () => {
    const seed = await seedCatalog(api, uniqueName('sup'), ['1.0.0']);
    const admin = bearer(api.adminToken);
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(admin)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('sup')}.example.com` })
      .expect(202);
    // As if the API had crashed before signalling: no workflow exists for the committed row.
    // (On a loaded machine the API's bounded signal may already have failed: the same situation.)
    await temporal.workflow
      .getHandle(res.body.workflow.id)
      .terminate('simulated loss')
      .catch((err: Error) => {
        if (err.name !== 'WorkflowNotFoundError') throw err;
      });

    // Deleted before any worker ran: its workflow's first step is a teardown, with no namespace and
    // so no tenant ServiceAccount to act as. It must end deleted, not failed for good on a Forbidden.
    const early = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(admin)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('sup-early')}.example.com` })
      .expect(202);
    await api.http.delete(`/users/${seed.userId}/deployments/${early.body.id}`).set(admin).expect(202);

    worker = await startWorker({ supervisor: true });
    const gone = await waitForStatus(api, seed.userId, early.body.id, (x) => x.status === 'deleted' || x.lastError !== null, 120_000);
    expect(gone).toMatchObject({ status: 'deleted', lastError: null });
    expect((await events(api, seed.userId, early.body.id)).map((e) => e.type)).not.toContain('error');

    const d = await waitForStatus(api, seed.userId, res.body.id, (x) => x.status === 'ready' && x.observedGeneration === 1);
    expect(d.lastError).toBeNull();
    const desc = await temporal.workflow.getHandle(res.body.workflow.id).describe();
    expect(desc.status.name).toBe('RUNNING');

    await api.http.delete(`/users/${seed.userId}/deployments/${res.body.id}`).set(admin).expect(202);
    await waitForStatus(api, seed.userId, res.body.id, (x) => x.status === 'deleted', 180_000);
  });
});
