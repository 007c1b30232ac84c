/**
 * Fault 3: the Temporal server restarted (the stack's dev server, stopped and started again from
 * its SQLite state with the stack's own code) while ten installs are in flight (held in
 * `helm --wait` by a storage-class gate that opens just before the server goes). The worker and
 * the API must ride it out: every deployment converges, the workflows survive the restart (no
 * second run), and changes asked for after it are applied.
 *
 * This disturbs whatever else uses the stack's Temporal at that moment; CI runs suites one at a time.
 */
import { restartComponent } from '../../scripts/stack';
import { KubeObject } from '../../libs/platform/src';
import { convergenceProblems, createDeployments, deleteFleet, Deployment, readyAt, RelSuite, sleep, startRelSuite, StorageGate, waitAll, waitForPendingUnderHelm } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

describe('Temporal server restarted (reliability)', () => {
  let s: RelSuite;
  let gate: StorageGate;
  let template: string;

  beforeAll(async () => {
    s = await startRelSuite('temporal');
    gate = new StorageGate(s);
    template = await gate.template('2.0.0');
  });

  afterAll(async () => {
    await s?.close();
    await gate?.cleanup();
  });

  it('converges when the Temporal server restarts during installs', async () => {
    await scenario('fault-3-temporal-restart', FLEET, 'deployments', async (r) => {
      const worker = s.startWorker('a');
      const fleet: Deployment[] = await createDeployments(s, FLEET, undefined, template);
      // All ten helm runs wait behind the gate (see StorageGate). It opens, and the server goes as
      // soon as the first claim is bound, so helm finishes while Temporal is away.
      const pending = await waitForPendingUnderHelm(s, fleet, 'install');
      await gate.open(fleet);
      const end = Date.now() + 60_000;
      const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: `${fleet[0].deploymentUid}-data`, namespace: fleet[0].deploymentUid };
      while ((await s.kube.get<KubeObject & { status?: { phase?: string } }>(claim))?.status?.phase !== 'Bound' && Date.now() < end) await sleep(200);
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
          const res = await s.api.http
            .put(`/users/${s.seed.userId}/deployments/${d.id}`)
            .set(s.admin)
            .send({ values: { title: `After restart ${i}` } });
          if (res.status !== 202) throw new Error(`put: ${res.status} ${res.text}`);
        }),
      );
      await waitAll(s, fleet, 'ready at generation 2', readyAt(2), 240_000);
      const problems = await convergenceProblems(s, fleet, {
        generation: 2,
        chartVersion: '1.0.0',
        templateId: template,
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
