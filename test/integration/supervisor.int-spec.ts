/**
 * The supervisor's queries and its sweep lock on the real Postgres of the local stack: which rows
 * count as stuck (Postgres' clock and the row's updated_at), two supervisors (two workers)
 * sweeping at the same moment: one sweeps, the other does nothing, and workers asking often:
 * one sweep per interval.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DeploymentSupervisor } from '../../libs/orchestration/src';
import { createDataSource, DeploymentsRepository, DeploymentStatus, ProductsRepository, SupervisorSweepsRepository, TemplatesRepository, UsersRepository } from '../../libs/persistence/src';
import { createScratchDatabase, uniqueName } from '../support/api';

describe('supervisor on Postgres', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: DataSource;
  let deployments: DeploymentsRepository;
  let ids: { userId: string; productId: string; templateId: string };

  beforeAll(async () => {
    scratch = await createScratchDatabase('caelus_supint');
    db = createDataSource(scratch.url, { extra: { max: 10 } });
    await db.initialize();
    deployments = new DeploymentsRepository(db);
    const user = await new UsersRepository(db).insert({ email: `${uniqueName('sup')}@example.com`, isAdmin: false, apiTokenHash: randomUUID() });
    const product = await new ProductsRepository(db).insert({ name: uniqueName('sup'), description: '' });
    const template = await new TemplatesRepository(db).insert({
      productId: product.id,
      version: '1.0.0',
      chartRef: 'oci://registry.example/webapp',
      chartVersion: '1.0.0',
      chartDigest: null,
      defaultValues: {},
      valuesSchema: null,
      capabilities: {},
    });
    ids = { userId: user.id, productId: product.id, templateId: template.id };
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  /** A deployment row as the API and the workflow leave it, last written `ageSeconds` ago. */
  async function row(status: DeploymentStatus, generation: number, observedGeneration: number, ageSeconds: number) {
    const d = await deployments.insert({
      userId: ids.userId,
      productId: ids.productId,
      deploymentUid: uniqueName('st').slice(0, 20),
      domainName: `${uniqueName('st')}.example.com`,
      desiredTemplateId: ids.templateId,
      generation,
      observedGeneration,
      status,
      deletedAt: status === 'deleting' || status === 'deleted' ? new Date() : null,
    });
    await db.query(`UPDATE deployments SET updated_at = now() - make_interval(secs => $2) WHERE id = $1`, [d.id, ageSeconds]);
    return d;
  }

  it('lists requests unanswered for longer than the threshold: unapplied generations and deletions, never a recorded failure', async () => {
    await db.query('DELETE FROM deployments');
    const lostCreate = await row('provisioning', 1, 0, 120);
    const lostUpdate = await row('upgrading', 3, 2, 120);
    const lostDelete = await row('deleting', 4, 2, 120);
    await row('provisioning', 1, 0, 5); // young: its workflow may be on it
    await row('error', 2, 1, 120); // the workflow acted on generation 2 and failed: no request waits
    await row('ready', 2, 2, 120);
    await row('deleted', 5, 5, 120);
    const stuck = await deployments.listStuck(60);
    expect(stuck.map((d) => d.id).sort()).toEqual([lostCreate.id, lostUpdate.id, lostDelete.id].sort());
    expect(stuck.find((d) => d.id === lostDelete.id)).toMatchObject({ status: 'deleting', generation: 4, deploymentUid: lostDelete.deploymentUid });
    // A write by the API (a new generation) or the workflow (a failure) restarts the clock.
    await deployments.update(lostUpdate.id, { generation: 4 });
    expect((await deployments.listStuck(60)).map((d) => d.id)).not.toContain(lostUpdate.id);
  });

  it('holds the advisory lock on its own session until fn is done; a second caller does not run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = deployments.withAdvisoryLock(42n, async () => {
      await gate;
      return 'first';
    });
    await new Promise((r) => setTimeout(r, 200));
    const ran = jest.fn(async () => 'second');
    await expect(deployments.withAdvisoryLock(42n, ran)).resolves.toEqual({ locked: false });
    expect(ran).not.toHaveBeenCalled();
    const held = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 42 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(held[0].n).toBe(1);
    release();
    await expect(first).resolves.toEqual({ locked: true, result: 'first' });
    await expect(deployments.withAdvisoryLock(42n, ran)).resolves.toEqual({ locked: true, result: 'second' });
    // Released, and the session went back to the pool: nothing left behind.
    const after = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 42`);
    expect(after[0].n).toBe(0);
  });

  it('releases the lock when the sweep throws', async () => {
    await expect(deployments.withAdvisoryLock(43n, async () => Promise.reject(new Error('sweep broke')))).rejects.toThrow('sweep broke');
    await expect(deployments.withAdvisoryLock(43n, async () => 'again')).resolves.toEqual({ locked: true, result: 'again' });
  });

  it('lets one of two supervisors sweep when both start at once; each stuck deployment is signalled once', async () => {
    await db.query('DELETE FROM deployments');
    const stuck = [await row('deleting', 3, 1, 300), await row('upgrading', 2, 1, 300)];
    const woken: string[] = [];
    // Each supervisor with its own connection pool, as two worker processes have.
    const other = createDataSource(scratch.url, { extra: { max: 4 } });
    await other.initialize();
    try {
      const supervisor = (repo: DeploymentsRepository, source: DataSource) =>
        new DeploymentSupervisor(
          repo,
          // Every workflow runs (the stuck-delete case): only the stuck rows are signalled again.
          {
            workflow: {
              list: async function* () {
                await new Promise((r) => setTimeout(r, 300));
                for (const d of stuck) yield { workflowId: `deployment-${d.deploymentUid}` };
              },
            },
          } as never,
          {
            wake: async (d: { deploymentUid: string }, s: { name: string }) => {
              woken.push(`${d.deploymentUid}:${s.name}`);
            },
            describe: () => ({ id: '', uiUrl: '' }),
          },
          { taskQueue: 'q', stuckAfterSeconds: 60, intervalSeconds: 15, identity: 'test' },
          { info: () => undefined, warn: () => undefined },
          new SupervisorSweepsRepository(source),
        );
      const results = await Promise.all([supervisor(deployments, db).sweep(), supervisor(new DeploymentsRepository(other), other).sweep()]);
      expect(results.map((r) => r.swept).sort()).toEqual([false, true]);
      expect(results.find((r) => r.swept)).toMatchObject({ resignalled: 2, started: 0 });
      expect(woken.sort()).toEqual([`${stuck[0].deploymentUid}:delete`, `${stuck[1].deploymentUid}:reconcile`].sort());
    } finally {
      await other.destroy();
    }
  });

  it('grants one sweep per interval to three workers asking every 100 ms, on the database clock', async () => {
    const pools = await Promise.all([1, 2, 3].map(async () => createDataSource(scratch.url, { extra: { max: 2 } }).initialize()));
    try {
      const queue = `q-${randomUUID()}`;
      const granted: { at: number; sweep: number; worker: number }[] = [];
      const end = Date.now() + 3_500;
      await Promise.all(
        pools.map(async (pool, worker) => {
          const sweeps = new SupervisorSweepsRepository(pool);
          while (Date.now() < end) {
            const sweep = await sweeps.claim(queue, 1, `worker-${worker}`);
            if (sweep !== undefined) granted.push({ at: Date.now(), sweep, worker });
            await new Promise((r) => setTimeout(r, 100));
          }
        }),
      );
      granted.sort((a, b) => a.sweep - b.sweep);
      // 3.5 s at one per second: sweeps 1..4 (the fourth once 3 s have passed), each granted once.
      expect(granted.map((g) => g.sweep)).toEqual(Array.from({ length: granted.length }, (_, i) => i + 1));
      expect(granted.length).toBeGreaterThanOrEqual(3);
      expect(granted.length).toBeLessThanOrEqual(4);
      for (let i = 1; i < granted.length; i++) expect(granted[i].at - granted[i - 1].at).toBeGreaterThanOrEqual(900);
      const [row] = await db.query('SELECT sweeps::int AS sweeps, last_swept_by FROM supervisor_sweeps WHERE task_queue = $1', [queue]);
      expect(row.sweeps).toBe(granted.length);
      expect(row.last_swept_by).toBe(`worker-${granted.at(-1)!.worker}`);
    } finally {
      await Promise.all(pools.map((p) => p.destroy()));
    }
  });
});
