/**
 * Raw signals through the real Temporal server, the worker's real activities and Postgres:
 * anyone with Temporal access can send `temporal workflow signal --name upgrade --input ...`
 * with anything in it. Malformed payloads (NUL, wrong types, huge strings, unknown fields) are
 * recorded as `upgrade-rejected` events and change nothing; the workflow stays healthy (on the
 * old code a NUL in requestedBy made the event insert fail and the activity retry forever).
 * A flood of upgrade signals fills the workflow's queue: what it drops is recorded.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, execFileAsync, poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

describe('raw signals', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let connection: Connection;
  let temporal: Client;
  let seed: Seeded;
  let admin: Record<string, string>;

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_HELM_TIMEOUT: '120' });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    seed = await seedCatalog(api, uniqueName('rawsig'), ['1.0.0', '1.1.0']);
    admin = bearer(api.adminToken);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
  });

  const create = async (prefix: string) =>
    (
      await api.http
        .post(`/users/${seed.userId}/deployments`)
        .set(admin)
        .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName(prefix)}.example.com`, values: { title: prefix } })
        .expect(202)
    ).body as { id: string; deploymentUid: string; workflow: { id: string } };

  const cliSignal = (workflowId: string, name: string, input: string) =>
    execFileAsync(`${process.env.CAELUS_TOOLS_BIN}/temporal`, [
      'workflow',
      'signal',
      '--address',
      process.env.TEMPORAL_ADDRESS!,
      '--namespace',
      process.env.TEMPORAL_NAMESPACE ?? 'default',
      '--workflow-id',
      workflowId,
      '--name',
      name,
      '--input',
      input,
    ]);

  it('records malformed upgrade signals as rejected, never retries them, and floods record what they drop', async () => {
    // Both workflows are started by the API but no worker polls yet: every signal below waits in
    // their histories and reaches the workflow in its first activation, queue and all.
    const garbage = await create('rawbad');
    const flood = await create('rawflood');
    const raw = temporal.workflow.getHandle(garbage.workflow.id);
    const huge = 'x'.repeat(100_000);
    const malformed: unknown[] = [
      'upgrade please',
      42,
      null,
      [seed.templates['1.1.0']],
      { templateId: huge },
      { templateId: { $ne: null } },
      { templateId: `${seed.templates['1.1.0'].slice(0, 35)}\u0000` },
      // A valid target with a NUL in the sender: on the old code, an event insert that failed forever.
      { templateId: seed.templates['1.1.0'], requestedBy: 'ad\u0000min' },
      { templateId: seed.templates['1.1.0'], requestedBy: huge },
      { templateId: seed.templates['1.1.0'], requestedBy: 'ops', force: true },
    ];
    for (const payload of malformed) await raw.signal('upgrade', payload);
    await raw.signal('reconcile', 'force');
    await raw.signal('reconcile', { force: 'yes', generation: 'x'.repeat(1000) });
    await raw.signal('delete', { generation: 'soon' });
    const f = temporal.workflow.getHandle(flood.workflow.id);
    for (let i = 0; i < 25; i++) await f.signal('upgrade', { templateId: seed.templates['1.1.0'], requestedBy: 'flood' });

    worker = await startWorker();

    // The garbage changed nothing: created at 1.0.0, ready at generation 1, one rejection per payload.
    await waitForStatus(api, seed.userId, garbage.id, (d) => d.status === 'ready' && d.observedGeneration === 1, 180_000);
    let evs = await poll(
      'rejections',
      () => events(api, seed.userId, garbage.id),
      (e) => e.filter((x) => x.type === 'upgrade-rejected').length >= malformed.length,
      60_000,
    );
    const rejected = evs.filter((e) => e.type === 'upgrade-rejected');
    expect(rejected).toHaveLength(malformed.length);
    // eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
    expect(rejected.map((e) => e.message).join('\n')).not.toMatch(/\u0000|xxxxxxxxxx/);
    expect(evs.map((e) => e.type)).not.toContain('error');
    expect(evs.map((e) => e.type)).not.toContain('upgrade-requested');
    expect(await waitForStatus(api, seed.userId, garbage.id, () => true)).toMatchObject({ status: 'ready', generation: 1, desiredTemplateId: seed.templates['1.0.0'], lastError: null });

    // A raw NUL through the Temporal CLI to the running workflow: rejected the same way.
    await cliSignal(garbage.workflow.id, 'upgrade', JSON.stringify({ templateId: seed.templates['1.1.0'], requestedBy: 'cli\u0000user' }));
    evs = await poll(
      'CLI rejection',
      () => events(api, seed.userId, garbage.id),
      (e) => e.filter((x) => x.type === 'upgrade-rejected').length === malformed.length + 1,
      60_000,
    );
    expect(evs.filter((e) => e.type === 'upgrade-rejected').at(-1)?.message).toMatch(/requestedBy must be a printable string/);
    const desc = await raw.describe();
    expect(desc.status.name).toBe('RUNNING');
    // Nothing retrying: no activity pending once the rejections are written.
    const history = (await raw.fetchHistory()).events ?? [];
    expect(history.filter((e) => e.workflowTaskFailedEventAttributes || e.activityTaskFailedEventAttributes)).toEqual([]);
    expect(await waitForStatus(api, seed.userId, garbage.id, () => true)).toMatchObject({ status: 'ready', generation: 1 });

    // The flood: 20 queued (the first accepted, the rest already desired), 5 dropped and recorded.
    await waitForStatus(api, seed.userId, flood.id, (d) => d.status === 'ready' && d.observedGeneration === 2 && d.generation === 2, 180_000);
    const floodEvents = await poll(
      'drop event',
      () => events(api, seed.userId, flood.id),
      (e) => e.some((x) => x.type === 'upgrade-rejected' && x.data.dropped !== undefined),
      60_000,
    );
    const drop = floodEvents.find((e) => e.type === 'upgrade-rejected' && e.data.dropped !== undefined)!;
    expect(drop.data).toMatchObject({ dropped: 5, templateIds: [seed.templates['1.1.0']] });
    expect(drop.message).toMatch(/^5 upgrade signal\(s\) dropped/);
    expect(floodEvents.filter((e) => e.type === 'upgrade-requested')).toHaveLength(1);

    for (const d of [garbage, flood]) await api.http.delete(`/users/${seed.userId}/deployments/${d.id}`).set(admin).expect(202);
    for (const d of [garbage, flood]) await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'deleted', 180_000);
  });
});
