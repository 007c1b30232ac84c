/**
 * Fault 5: Postgres unreachable for 30 s while helm finishes ten installs, so the status
 * write-backs meet the outage. The worker reaches Postgres through a TCP proxy in this test that
 * refuses connections and cuts the open ones; the API keeps its direct connection. The workflow's
 * database activities retry without limit, so nothing observed may be lost.
 */
import {
  convergenceProblems,
  createDeployments,
  deleteFleet,
  Deployment,
  helmProcesses,
  readyAt,
  RelSuite,
  sleep,
  startRelSuite,
  StorageGate,
  TcpProxy,
  waitAll,
  waitForPendingUnderHelm,
} from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

const OUTAGE_MS = Number(process.env.CAELUS_REL_PG_OUTAGE_MS ?? 30_000);

/** Attempts of each activity type in a workflow's history (the started event records the last attempt). */
async function activityAttempts(s: RelSuite, d: Deployment): Promise<Record<string, number[]>> {
  const history = await s.temporal.workflow.getHandle(d.workflow.id).fetchHistory();
  const types = new Map<number, string>();
  const out: Record<string, number[]> = {};
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) types.set(Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
    if (e.activityTaskStartedEventAttributes) {
      const name = types.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)) ?? '?';
      (out[name] ??= []).push(e.activityTaskStartedEventAttributes?.attempt ?? 0);
    }
  }
  return out;
}

describe('Postgres unavailable during status write-back (reliability)', () => {
  let s: RelSuite;
  let proxy: TcpProxy;
  let gate: StorageGate;
  let template: string;

  beforeAll(async () => {
    s = await startRelSuite('pg');
    gate = new StorageGate(s);
    template = await gate.template('2.0.0');
    const url = new URL(s.dbUrl);
    proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await s?.close();
    await gate?.cleanup();
    await proxy?.close();
  });

  it(`loses no write-back when Postgres is away for ${OUTAGE_MS / 1000} s`, async () => {
    await scenario('fault-5-postgres-outage', FLEET, 'deployments', async (r) => {
      const viaProxy = new URL(s.dbUrl);
      viaProxy.host = proxy.address;
      const worker = s.startWorker('a', { DATABASE_URL: viaProxy.toString() });
      const fleet: Deployment[] = await createDeployments(s, FLEET, undefined, template);

      // All ten helm runs wait behind the gate; Postgres goes, then the gate opens: helm finishes
      // during the outage, the write-backs cannot.
      const pending = await waitForPendingUnderHelm(s, fleet, 'install');
      await proxy.refuse();
      const cutAt = Date.now();
      await gate.open(fleet);
      await sleep(OUTAGE_MS);
      // Keep Postgres away until helm is done (the volumes bind within the controller's resync), so every write-back meets the outage.
      while ((await helmProcesses(fleet)).length > 0 && Date.now() - cutAt < 150_000) await sleep(1000);
      r.note(`Postgres cut for the worker for ${Math.round((Date.now() - cutAt) / 1000)}s, from when ${pending.length}/${FLEET} helm installs were waiting until helm was done`);
      const deployedDuringOutage = (await Promise.all(fleet.map((d) => s.storage.latest(d.deploymentUid, d.deploymentUid)))).filter((rel) => rel?.status === 'deployed').length;
      const rows = await s.db.query<{ status: string }>(`select status from deployments where id = any($1::uuid[])`, [fleet.map((d) => d.id)]);
      r.note(`at the end of the outage: ${deployedDuringOutage} releases deployed by helm, ${rows.filter((x) => x.status === 'ready').length} rows written ready`);
      await proxy.restore();
      const back = Date.now();
      expect(worker.child.exitCode).toBeNull();

      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 300_000);
      r.note(`all ready ${Math.round((Date.now() - back) / 1000)}s after Postgres was back`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 1,
        chartVersion: '1.0.0',
        templateId: template,
        events: [
          ['created', 1],
          ['applied', 1],
        ],
        title: (i) => `Fleet ${i}`,
      });
      expect(problems).toEqual([]);
      expect(worker.child.exitCode).toBeNull();
      const attempts = await Promise.all(fleet.map((d) => activityAttempts(s, d)));
      const retriedWriteBacks = attempts.filter((a) => (a.recordApplied ?? []).some((n) => n > 1)).length;
      r.note(`${retriedWriteBacks}/${FLEET} recordApplied write-backs retried through the outage; the worker process stayed up`);
      expect(retriedWriteBacks).toBe(FLEET);
      r.note(`fleet deleted in ${await deleteFleet(s, fleet)}s`);
    });
  });
});
