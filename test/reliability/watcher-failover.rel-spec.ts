/**
 * Fault 9: the cluster watcher's worker is SIGKILLed with two workers up. Temporal notices within
 * the watch activity's heartbeat timeout and runs it on the other worker, which resumes the
 * watches from the last heartbeat's checkpoint; a change made while no watcher ran (a deleted
 * ConfigMap, a scaled Deployment) is corrected after the activity moved. The periodic drift check
 * is an hour away (CAELUS_DRIFT_INTERVAL=3600), so only the watcher can have triggered it.
 */
import { hostname } from 'node:os';
import { WorkflowExecutionDescription } from '@temporalio/client';
import { watcherWorkflowIdFor } from '../../libs/orchestration/src/contract';
import { KubeObject } from '../../libs/platform/src';
import { AppProcess, createDeployments, Deployment, deleteFleet, readyAt, RelSuite, sleep, startRelSuite, waitAll } from './support/harness';
import { scenario } from './support/results';

/** The watch activity's heartbeat timeout (cluster-watcher.workflow.ts), plus the retry's first backoff and slack. */
const FAILOVER_WITHIN_MS = 10_000 + 20_000;

describe('cluster watcher failover (reliability)', () => {
  let s: RelSuite;
  let fleet: Deployment[] = [];

  beforeAll(async () => {
    s = await startRelSuite('watch');
  });

  afterAll(async () => {
    await s?.close();
  });

  /** The pending watch activity: which worker runs it (its identity), its attempt, whether it started. */
  async function watchActivity(): Promise<{ identity: string; attempt: number; started: boolean } | undefined> {
    const d: WorkflowExecutionDescription = await s.temporal.workflow.getHandle(watcherWorkflowIdFor(s.workerEnv().CAELUS_TASK_QUEUE)).describe();
    const a = (d.raw.pendingActivities ?? []).find((p) => p.activityType?.name === 'watchCluster');
    if (!a) return undefined;
    return { identity: a.lastWorkerIdentity ?? '', attempt: a.attempt ?? 0, started: Number(a.state) === 2 };
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined && ok(v)) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
      await sleep(200);
    }
  }

  it('moves the watch to the surviving worker and corrects a change made during the gap', async () => {
    await scenario('fault-9-watcher-failover', 2, 'changes', async (r) => {
      const a = s.startWorker('a');
      const b = s.startWorker('b');
      fleet = await createDeployments(s, 2);
      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 240_000);
      const identityOf = (w: AppProcess) => `${w.child.pid}@${hostname()}`;

      const running = await until('the watch activity started', watchActivity, (x) => x.started && [a, b].some((w) => x.identity === identityOf(w)), 60_000);
      const [victim, survivor] = running.identity === identityOf(a) ? [a, b] : [b, a];
      // Let the watches list and the first heartbeat carry their checkpoint.
      await sleep(6000);
      await victim.kill();
      const killed = Date.now();
      r.note(`killed the watcher's worker (${victim.name.split('-').slice(0, 3).join('-')}), attempt ${running.attempt}`);

      // Changes while no watcher runs.
      const [d1, d2] = fleet;
      await s.kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d1.deploymentUid}-config`, namespace: d1.deploymentUid });
      await s.kube.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', name: d2.deploymentUid, namespace: d2.deploymentUid }, { spec: { replicas: 3 } });

      const moved = await until('the watch activity on the survivor', watchActivity, (x) => x.started && x.identity === identityOf(survivor), FAILOVER_WITHIN_MS);
      const movedAfter = Date.now() - killed;
      r.note(`the watch activity ran on the surviving worker ${Math.round(movedAfter / 100) / 10}s after the kill (attempt ${moved.attempt})`);
      expect(moved.attempt).toBeGreaterThan(running.attempt);

      await until(
        'the ConfigMap back',
        () => s.kube.get<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d1.deploymentUid}-config`, namespace: d1.deploymentUid }),
        (cm) => cm !== undefined,
        60_000,
      );
      const cmBack = Date.now() - killed;
      await until(
        'replicas back to 1',
        () => s.kube.get<KubeObject & { spec?: { replicas?: number } }>({ apiVersion: 'apps/v1', kind: 'Deployment', name: d2.deploymentUid, namespace: d2.deploymentUid }),
        (dep) => dep.spec?.replicas === 1,
        60_000,
      );
      const scaledBack = Date.now() - killed;
      r.note(`changes made during the gap corrected ${Math.round(cmBack / 100) / 10}s (ConfigMap) and ${Math.round(scaledBack / 100) / 10}s (replicas) after the kill; safety-net check 1 h away`);
      // The event is appended after the re-apply returns, so the objects can be back a moment
      // before their drift-corrected rows are: wait for both rows, do not read once.
      const corrected = await until(
        'a drift-corrected event on each deployment',
        async () => {
          const rows = await s.db.query<{ id: string }>(`select distinct deployment_id::text as id from deployment_events where type = 'drift-corrected' and deployment_id = any($1::uuid[])`, [
            fleet.map((d) => d.id),
          ]);
          return rows.length;
        },
        (n) => n === fleet.length,
        30_000,
      );
      expect(corrected).toBe(2);

      await deleteFleet(s, fleet);
    });
  });
});
