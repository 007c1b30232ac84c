/**
 * Fault 3: the Temporal server restarted (the stack's dev server, stopped and started again from
 * its SQLite state with the stack's own code) while ten installs are in flight. The worker and
 * the API must ride it out: every deployment converges, the workflows survive the restart (no
 * second run), and changes asked for after it are applied.
 *
 * This disturbs whatever else uses the stack's Temporal at that moment; CI runs suites one at a time.
 */
import { restartComponent } from '../../scripts/stack';
import { convergenceProblems, createDeployments, deleteFleet, Deployment, helmProcesses, readyAt, RelSuite, releasesPending, sleep, startRelSuite, waitAll } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

describe('Temporal server restarted (reliability)', () => {
  let s: RelSuite;

  beforeAll(async () => {
    s = await startRelSuite('temporal');
  });

  afterAll(async () => {
    await s?.close();
  });

  it('converges when the Temporal server restarts during installs', async () => {
    await scenario('fault-3-temporal-restart', FLEET, 'deployments', async (r) => {
      const worker = s.startWorker('a');
      const fleet: Deployment[] = await createDeployments(s, FLEET);
      // Restart while helm holds most releases: their activities finish while Temporal is away.
      const deadline = Date.now() + 90_000;
      let pending: string[] = [];
      while (Date.now() < deadline) {
        const running = await helmProcesses(fleet);
        pending = (await releasesPending(s, fleet, 'install')).filter((uid) => running.some((l) => l.includes(uid)));
        if (pending.length >= Math.ceil(FLEET * 0.6)) break;
        await sleep(200);
      }
      const { stopped, seconds } = await restartComponent('temporal', (line) => process.stderr.write(`[stack] ${line}\n`));
      if (!stopped) throw new Error('the running Temporal was not started by this stack, so it could not be restarted');
      r.note(`Temporal restarted with ${pending.length}/${FLEET} helm installs running; away ${seconds.toFixed(1)}s`);
      expect(worker.child.exitCode).toBeNull();

      const back = Date.now();
      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 300_000);
      r.note(`all ready ${Math.round((Date.now() - back) / 1000)}s after Temporal was back`);

      // The workflows still take signals after the restart.
      await Promise.all(
        fleet.map(async (d, i) => {
          const res = await s.api.http.put(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin).send({ values: { title: `After restart ${i}` } });
          if (res.status !== 202) throw new Error(`put: ${res.status} ${res.text}`);
        }),
      );
      await waitAll(s, fleet, 'ready at generation 2', readyAt(2), 240_000);
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
        title: (i) => `After restart ${i}`,
      });
      expect(problems).toEqual([]);
      expect(worker.child.exitCode).toBeNull();
      const retried = (worker.output().match(/respond_activity_task_completed retried/g) ?? []).length;
      r.note(`the worker process survived the restart (${retried} activity completions retried by the SDK while the server was away)`);
      r.note(`fleet deleted in ${await deleteFleet(s, fleet)}s`);
    });
  });
});
