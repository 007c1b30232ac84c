import { DeploymentSupervisor, SWEEP_LOCK_KEY } from './supervisor';

type Row = { id: string; deploymentUid: string; userId: string; status: string; generation: number };

describe(DeploymentSupervisor.name, () => {
  const rows: Row[] = [
    { id: '1', deploymentUid: 'a', userId: 'u', status: 'ready', generation: 3 },
    { id: '2', deploymentUid: 'b', userId: 'u', status: 'deleting', generation: 5 },
    { id: '3', deploymentUid: 'c', userId: 'u', status: 'provisioning', generation: 1 },
  ];

  /** An in-memory advisory lock: held while a sweep runs, like pg_try_advisory_lock on one session. */
  class FakeLock {
    held = new Set<bigint>();
    async withAdvisoryLock<T>(key: bigint, fn: () => Promise<T>) {
      if (this.held.has(key)) return { locked: false as const };
      this.held.add(key);
      try {
        return { locked: true as const, result: await fn() };
      } finally {
        this.held.delete(key);
      }
    }
  }

  /** supervisor_sweeps in memory: a claim is granted when the last one is an interval old, on a clock the test moves. */
  class FakeSweeps {
    now = 0;
    last?: number;
    count = 0;
    async claim(_taskQueue: string, intervalSeconds: number) {
      if (this.last !== undefined && this.now - this.last < intervalSeconds * 1000) return undefined;
      this.last = this.now;
      return ++this.count;
    }
  }
  const alwaysDue = { claim: async () => 1 };

  function build(options: { running: string[]; stuck?: Row[]; failOn?: string; lock?: FakeLock; stuckAfterSeconds?: number; slowList?: Promise<void>; sweeps?: { claim: FakeSweeps['claim'] } }) {
    const woken: { uid: string; signal: string }[] = [];
    const lock = options.lock ?? new FakeLock();
    const repo = {
      listUnfinished: jest.fn(async () => {
        await options.slowList;
        return rows;
      }),
      listStuck: jest.fn(async (_seconds: number) => options.stuck ?? []),
      withAdvisoryLock: lock.withAdvisoryLock.bind(lock),
    };
    const sut = new DeploymentSupervisor(
      repo as never,
      {
        workflow: {
          list: async function* () {
            for (const workflowId of options.running) yield { workflowId };
          },
        },
      } as never,
      {
        wake: async (d: { deploymentUid: string }, s: { name: string }) => {
          if (d.deploymentUid === options.failOn) throw new Error('temporal down');
          woken.push({ uid: d.deploymentUid, signal: s.name });
        },
        describe: () => ({ id: '', uiUrl: '' }),
      },
      { taskQueue: 'queue', stuckAfterSeconds: options.stuckAfterSeconds ?? 60, intervalSeconds: 15, identity: 'worker-1' },
      { info: () => undefined, warn: () => undefined },
      options.sweeps ?? alwaysDue,
    );
    return { sut, woken, repo };
  }

  it('starts the workflows that are missing, with delete for deployments being deleted', async () => {
    const { sut, woken } = build({ running: ['deployment-a'] });
    await expect(sut.sweep()).resolves.toEqual({ swept: true, sweep: 1, unfinished: 3, running: 1, started: 2, resignalled: 0, failed: 0 });
    expect(woken).toEqual([
      { uid: 'b', signal: 'delete' },
      { uid: 'c', signal: 'reconcile' },
    ]);
  });

  it('keeps going when one start fails', async () => {
    const { sut, woken } = build({ running: [], failOn: 'a' });
    await expect(sut.sweep()).resolves.toMatchObject({ started: 2, failed: 1 });
    expect(woken.map((w) => w.uid)).toEqual(['b', 'c']);
  });

  it('signals running workflows again when their request has waited too long: delete for a deletion, reconcile for a new generation', async () => {
    const { sut, woken, repo } = build({ running: ['deployment-a', 'deployment-b', 'deployment-c'], stuck: [rows[1], rows[2]], stuckAfterSeconds: 30 });
    await expect(sut.sweep()).resolves.toEqual({ swept: true, sweep: 1, unfinished: 3, running: 3, started: 0, resignalled: 2, failed: 0 });
    expect(repo.listStuck).toHaveBeenCalledWith(30);
    expect(woken).toEqual([
      { uid: 'b', signal: 'delete' },
      { uid: 'c', signal: 'reconcile' },
    ]);
  });

  it('wakes a stuck deployment whose workflow is gone once, not twice', async () => {
    const { sut, woken } = build({ running: ['deployment-a'], stuck: [rows[1]] });
    await expect(sut.sweep()).resolves.toMatchObject({ started: 2, resignalled: 0 });
    expect(woken.filter((w) => w.uid === 'b')).toHaveLength(1);
  });

  it('does nothing while another supervisor holds the sweep lock', async () => {
    const lock = new FakeLock();
    let release!: () => void;
    const slowList = new Promise<void>((r) => (release = r));
    const first = build({ running: [], lock, slowList });
    const second = build({ running: [], lock });
    const sweeping = first.sut.sweep();
    await Promise.resolve();
    expect(lock.held.has(SWEEP_LOCK_KEY)).toBe(true);
    await expect(second.sut.sweep()).resolves.toEqual({ swept: false, unfinished: 0, running: 0, started: 0, resignalled: 0, failed: 0 });
    expect(second.repo.listUnfinished).not.toHaveBeenCalled();
    release();
    await expect(sweeping).resolves.toMatchObject({ swept: true, started: 3 });
    expect(second.woken).toEqual([]);
    // Released after the sweep: the next interval's sweep runs.
    await expect(second.sut.sweep()).resolves.toMatchObject({ swept: true, started: 3 });
  });

  it('sweeps exactly once per interval however many workers ask, and however often', async () => {
    const sweeps = new FakeSweeps();
    const workers = [build({ running: [], sweeps }), build({ running: [], sweeps }), build({ running: [], sweeps })];
    let swept = 0;
    // Three workers ask every 3 s for 45 s: three intervals of 15 s.
    for (sweeps.now = 0; sweeps.now < 45_000; sweeps.now += 3_000) {
      for (const w of workers) if ((await w.sut.sweep()).swept) swept++;
    }
    expect(swept).toBe(3);
    expect(workers.reduce((n, w) => n + w.repo.listUnfinished.mock.calls.length, 0)).toBe(3);
  });
});
