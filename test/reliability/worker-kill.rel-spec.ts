/**
 * Faults 1 and 2: the worker SIGKILLed (its whole process group, helm included, as when its pod
 * dies) while helm installs ten releases, and again while it upgrades them. A new worker must
 * unlock the releases helm left pending and bring every deployment to the state last asked for.
 */
import { convergenceProblems, createDeployments, deleteFleet, Deployment, helmProcesses, readyAt, RelSuite, releasesPending, sleep, startRelSuite, waitAll } from './support/harness';
import { scenario } from './support/results';
import { FLEET } from './support/fleet-size';

/** Polls until at least `want` releases are pending with helm running, or `maxMs` passed with at least one. */
async function waitForPending(s: RelSuite, fleet: Deployment[], op: 'install' | 'upgrade', want: number, maxMs = 90_000): Promise<string[]> {
  const started = Date.now();
  let best: string[] = [];
  for (;;) {
    const pending = await releasesPending(s, fleet, op);
    const running = await helmProcesses(fleet);
    const live = pending.filter((uid) => running.some((l) => l.includes(uid)));
    if (live.length > best.length) best = live;
    if (live.length >= want) return live;
    if (Date.now() - started > maxMs) {
      if (best.length) return live.length ? live : best;
      throw new Error(`no release reached pending-${op} with helm running within ${maxMs / 1000}s`);
    }
    await sleep(100);
  }
}

describe('worker killed mid-helm (reliability)', () => {
  let s: RelSuite;
  let fleet: Deployment[];

  beforeAll(async () => {
    s = await startRelSuite('kill');
  });

  afterAll(async () => {
    await s?.close();
  });

  it('converges after a SIGKILL during helm install', async () => {
    await scenario('fault-1-kill-install', FLEET, 'deployments', async (r) => {
      let worker = s.startWorker('install-a');
      fleet = await createDeployments(s, FLEET);
      const pending = await waitForPending(s, fleet, 'install', Math.ceil(FLEET * 0.8));
      await worker.kill();
      const stuck = await releasesPending(s, fleet, 'install');
      r.note(`killed with ${pending.length}/${FLEET} releases pending-install under a running helm; ${stuck.length} still pending after the kill`);
      expect(stuck.length).toBeGreaterThan(0);

      const restarted = Date.now();
      worker = s.startWorker('install-b');
      await waitAll(s, fleet, 'ready at generation 1', readyAt(1), 300_000);
      r.note(`all ready ${Math.round((Date.now() - restarted) / 1000)}s after the new worker started`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 1,
        chartVersion: '1.0.0',
        templateId: s.seed.templates['1.0.0'],
        events: [
          ['created', 1],
          ['applied', 1],
        ],
        title: (i) => `Fleet ${i}`,
      });
      expect(problems).toEqual([]);
      const unlocked = await countEvents(s, fleet, 'unlocked');
      r.note(`${unlocked} releases unlocked by the new worker`);
      expect(unlocked).toBeGreaterThanOrEqual(stuck.length);
    });
  });

  it('converges after a SIGKILL during helm upgrade', async () => {
    expect(fleet).toBeDefined();
    await scenario('fault-2-kill-upgrade', FLEET, 'deployments', async (r) => {
      const before = await countEvents(s, fleet, 'unlocked');
      await Promise.all(
        fleet.map(async (d) => {
          const res = await s.api.http.post(`/users/${s.seed.userId}/deployments/${d.id}/upgrade`).set(s.admin).send({ templateId: s.seed.templates['1.1.0'] });
          if (res.status !== 202) throw new Error(`upgrade: ${res.status} ${res.text}`);
        }),
      );
      const pending = await waitForPending(s, fleet, 'upgrade', Math.ceil(FLEET * 0.8));
      for (const w of s.workers) await w.kill();
      const stuck = await releasesPending(s, fleet, 'upgrade');
      r.note(`killed with ${pending.length}/${FLEET} releases pending-upgrade under a running helm; ${stuck.length} still pending after the kill`);
      expect(stuck.length).toBeGreaterThan(0);

      const restarted = Date.now();
      s.startWorker('upgrade-b');
      await waitAll(s, fleet, 'ready at generation 2', readyAt(2), 300_000);
      r.note(`all ready ${Math.round((Date.now() - restarted) / 1000)}s after the new worker started`);
      const problems = await convergenceProblems(s, fleet, {
        generation: 2,
        chartVersion: '1.1.0',
        templateId: s.seed.templates['1.1.0'],
        events: [
          ['created', 1],
          ['applied', 1],
          ['upgrade-requested', 2],
          ['applied', 2],
        ],
        title: (i) => `Fleet ${i}`,
      });
      expect(problems).toEqual([]);
      const unlocked = (await countEvents(s, fleet, 'unlocked')) - before;
      r.note(`${unlocked} releases unlocked by the new worker`);
      expect(unlocked).toBeGreaterThanOrEqual(stuck.length);

      const secs = await deleteFleet(s, fleet);
      r.note(`fleet deleted in ${secs}s`);
    });
  });
});

async function countEvents(s: RelSuite, fleet: Deployment[], type: string): Promise<number> {
  const [row] = await s.db.query<{ n: string }>(`select count(*)::text as n from deployment_events where type = $1 and deployment_id = any($2::uuid[])`, [type, fleet.map((d) => d.id)]);
  return Number(row.n);
}
