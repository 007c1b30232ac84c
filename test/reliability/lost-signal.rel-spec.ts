/**
 * Fault 6: the API dies between the database commit and the signal. Here the API's Temporal
 * address points at a port nothing listens on, so every signalWithStart fails after the commit
 * (the request still answers 202: the desired state is stored). Then the API is "restarted" with
 * the real address and a worker with a short supervisor interval runs on this suite's own
 * database: its supervisor must start the ten missing workflows. A second round loses the
 * `reconcile` signals of values updates to running workflows; the workflows pick the change up
 * at their next timer (CAELUS_DRIFT_INTERVAL, short here), so it is applied all the same.
 */
import { convergenceProblems, createDeployments, deleteFleet, Deployment, freePort, readyAt, RelSuite, startRelSuite, waitAll, workflowRuns } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

describe('API restarted between the commit and the signal (reliability)', () => {
  let s: RelSuite;
  let dead: string;

  beforeAll(async () => {
    dead = `127.0.0.1:${await freePort()}`;
    s = await startRelSuite('signal', { apiEnv: { TEMPORAL_ADDRESS: dead } });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('starts the missing workflows from the supervisor and applies updates whose signal was lost', async () => {
    await scenario('fault-6-lost-signal', FLEET, 'deployments', async (r) => {
      const fleet: Deployment[] = await createDeployments(s, FLEET);
      const runs = await Promise.all(fleet.map((d) => workflowRuns(s, d)));
      expect(runs.map((x) => x.byId)).toEqual(fleet.map(() => 0));
      r.note(`${FLEET} creates committed (202) with no workflow started`);

      await s.restartApi({ TEMPORAL_ADDRESS: s.stack.TEMPORAL_ADDRESS });
      const started = Date.now();
      const worker = s.startWorker('a', { CAELUS_SUPERVISOR_INTERVAL: '3', CAELUS_DRIFT_INTERVAL: '20' });
      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 300_000);
      r.note(`supervisor started the workflows; all ready ${Math.round((Date.now() - started) / 1000)}s after the worker started`);

      // Round two: the signals of values updates to running workflows are lost the same way.
      await s.restartApi({ TEMPORAL_ADDRESS: dead });
      await Promise.all(
        fleet.map(async (d, i) => {
          const res = await s.api.http
            .put(`/users/${s.seed.userId}/deployments/${d.id}`)
            .set(s.admin)
            .send({ values: { title: `Unsignalled ${i}` } });
          if (res.status !== 202) throw new Error(`put: ${res.status} ${res.text}`);
        }),
      );
      await s.restartApi({ TEMPORAL_ADDRESS: s.stack.TEMPORAL_ADDRESS });
      const updated = Date.now();
      await waitAll(s, fleet, 'ready at generation 2', readyAt(2), 240_000);
      r.note(`updates whose reconcile signal was lost applied within ${Math.round((Date.now() - updated) / 1000)}s (drift timer 20 s)`);

      const problems = await convergenceProblems(s, fleet, {
        generation: 2,
        chartVersion: '1.0.0',
        templateId: s.seed.templates['1.0.0'],
        events: [
          ['created', 1],
          ['applied', 1],
          ['values-updated', 2],
          ['applied', 2],
        ],
        title: (i) => `Unsignalled ${i}`,
      });
      expect(problems).toEqual([]);
      expect(worker.child.exitCode).toBeNull();
      r.note(`fleet deleted in ${await deleteFleet(s, fleet)}s`);
    });
  });
});
