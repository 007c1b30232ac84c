/**
 * Fault 10: a DELETE lands while helm installs releases that can never become ready (their data
 * claims ask for a storage class nothing provisions, so `helm --wait` holds each release pending).
 * Before, the teardown waited until the apply had used up its attempts: 3 × the helm timeout (here
 * 120 s, 15 min by default). Now the delete signal cancels the apply: each helm process is
 * stopped, the activity reports itself cancelled (no error recorded), and the teardown runs at once.
 */
import { allEvents, createDeployments, Deployment, helmProcesses, RelSuite, startRelSuite, StorageGate, waitAll, waitForPendingUnderHelm } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

describe('DELETE during a helm install that cannot finish (reliability)', () => {
  let s: RelSuite;
  let gate: StorageGate;

  beforeAll(async () => {
    s = await startRelSuite('intr');
    gate = new StorageGate(s);
  });

  afterAll(async () => {
    await s?.close();
    await gate?.cleanup();
  });

  it('stops the installs and deletes every deployment within a minute, with no error recorded', async () => {
    await scenario('fault-10-delete-during-install', FLEET, 'deployments', async (r) => {
      s.startWorker('a');
      const template = await gate.template('3.0.0');
      const fleet: Deployment[] = await createDeployments(s, FLEET, undefined, template);
      const pending = await waitForPendingUnderHelm(s, fleet, 'install');
      r.note(`${pending.length}/${FLEET} releases pending-install under a running helm --wait (helm timeout 120 s, 3 attempts)`);

      const asked = Date.now();
      await Promise.all(
        fleet.map(async (d) => {
          const res = await s.api.http.delete(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin);
          if (res.status !== 202) throw new Error(`delete ${d.id}: ${res.status} ${res.text}`);
        }),
      );
      await waitAll(s, fleet, 'deleted', (d) => d.status === 'deleted', 90_000);
      const seconds = (Date.now() - asked) / 1000;
      // Well before one helm timeout ran out, let alone three.
      expect(seconds).toBeLessThan(60);
      r.note(`all ${FLEET} deleted ${Math.round(seconds)}s after the DELETEs (one apply attempt alone may take 120 s)`);

      expect(await helmProcesses(fleet)).toEqual([]);
      const gone = await Promise.all(fleet.map((d) => s.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: d.deploymentUid })));
      expect(gone.filter(Boolean).map((ns) => ns!.metadata.name)).toEqual([]);

      // The interruption is not a failure: no error event, and the apply is recorded cancelled in each history.
      const errors = (await Promise.all(fleet.map((d) => allEvents(s, d)))).flat().filter((e) => e.type === 'error');
      expect(errors.map((e) => e.message)).toEqual([]);
      let cancelled = 0;
      for (const d of fleet) {
        const history = await s.temporal.workflow.getHandle(d.workflow.id).fetchHistory();
        const events = history.events ?? [];
        expect(events.filter((e) => e.activityTaskFailedEventAttributes)).toHaveLength(0);
        cancelled += events.filter((e) => e.activityTaskCanceledEventAttributes).length;
      }
      expect(cancelled).toBe(FLEET);
      r.note(`${cancelled} applies recorded cancelled (ActivityTaskCanceled), none failed; no error event; no helm process left`);
    });
  });
});
