/**
 * Fault 7: a deployment failed for good (its values break the chart's schema: helm refuses them,
 * a non-retryable failure), so its workflow waits for a signal with no retry timer. Then a DELETE
 * is committed but its signal is lost (the API's Temporal address points at a port nothing
 * listens on). Its workflow is running, so the old supervisor, which only started missing
 * workflows, left it alone: `deleting` forever. With the supervisor interval at 15 s (and the
 * stuck threshold at its default, half an interval) each must end `deleted`, namespace gone,
 * within a minute of the DELETE.
 */
import { exampleChart } from '../support/lifecycle';
import { createDeployments, Deployment, freePort, getDeployment, RelSuite, startRelSuite, waitAll, workflowRuns } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

describe('DELETE whose signal was lost on a deployment that failed for good (reliability)', () => {
  let s: RelSuite;
  let dead: string;

  beforeAll(async () => {
    dead = `127.0.0.1:${await freePort()}`;
    s = await startRelSuite('stuck');
  });

  afterAll(async () => {
    await s?.close();
  });

  it('re-signals the running workflows and deletes them, namespaces gone, within a minute', async () => {
    await scenario('fault-7-stuck-delete', FLEET, 'deployments', async (r) => {
      // No template schema: only the chart's own values.schema.json (checked by helm) refuses 99 replicas.
      const chart = exampleChart('1.0.0');
      const bad = await s.api.http
        .post(`/products/${s.seed.productId}/templates`)
        .set(s.admin)
        .send({ version: '0.0.1-bad', chartRef: chart.chartRef, chartVersion: '1.0.0', defaultValues: { ...chart.defaultValues, replicas: 99 } });
      expect(bad.status).toBe(201);
      const worker = s.startWorker('a', { CAELUS_SUPERVISOR_INTERVAL: '15' });
      const fleet: Deployment[] = await createDeployments(s, FLEET, (i) => ({ title: `Stuck ${i}` }), bad.body.id);
      const failed = await waitAll(s, fleet, 'error (failed for good)', (d) => d.status === 'error' && d.lastError !== null, 180_000);
      expect(failed.every((d) => /schema|replicas/i.test(d.lastError ?? ''))).toBe(true);
      for (const d of fleet) {
        const state = await s.temporal.workflow.getHandle(d.workflow.id).query<{ waitingFor: string | null }>('state');
        expect(state.waitingFor).toMatch(/^a signal/);
      }
      r.note(`${FLEET} deployments failed for good (helm refused the values); each workflow waits for a signal`);

      // The DELETEs commit (202) but their signals are lost. The API gives up on Temporal after 1 s
      // (default 15 s), so the rows are checked before the supervisor could take them as stuck.
      await s.restartApi({ TEMPORAL_ADDRESS: dead, CAELUS_SIGNAL_TIMEOUT_MS: '1000' });
      const deleted = Date.now();
      await Promise.all(
        fleet.map(async (d) => {
          const res = await s.api.http.delete(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin);
          if (res.status !== 202) throw new Error(`delete ${d.id}: ${res.status} ${res.text}`);
        }),
      );
      // Checked at once: the rows have just changed, so no sweep takes them as stuck for CAELUS_STUCK_AFTER.
      for (const d of fleet) expect((await getDeployment(s, d)).status).toBe('deleting');
      const runs = await Promise.all(fleet.map((d) => workflowRuns(s, d)));
      expect(runs.map((x) => x.running)).toEqual(fleet.map(() => 1));
      await s.restartApi({ TEMPORAL_ADDRESS: s.stack.TEMPORAL_ADDRESS });

      await waitAll(s, fleet, 'deleted', (d) => d.status === 'deleted', 60_000);
      const seconds = (Date.now() - deleted) / 1000;
      const gone = await Promise.all(fleet.map((d) => s.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: d.deploymentUid })));
      expect(gone.filter(Boolean).map((ns) => ns!.metadata.name)).toEqual([]);
      expect(seconds).toBeLessThan(60);
      r.note(`all ${FLEET} deleted with their namespaces ${Math.round(seconds)}s after the DELETEs (supervisor interval 15 s, stuck after 8 s)`);

      const finished = await Promise.all(fleet.map((d) => s.temporal.workflow.getHandle(d.workflow.id).describe()));
      expect(finished.map((x) => x.status.name)).toEqual(fleet.map(() => 'COMPLETED'));
      const resignalled = worker
        .output()
        .split('\n')
        .filter((l) => l.includes('supervisor sweep'))
        .map((l) => Number(/"resignalled":(\d+)/.exec(l)?.[1] ?? 0))
        .reduce((a, b) => a + b, 0);
      expect(resignalled).toBeGreaterThanOrEqual(FLEET);
      r.note(`the supervisor re-signalled ${resignalled} running workflows`);
      expect(worker.child.exitCode).toBeNull();
    });
  });
});
