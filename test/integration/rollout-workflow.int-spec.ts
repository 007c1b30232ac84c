/**
 * The rollout workflow on the real Temporal dev server with fake activities (an in-memory rollout):
 * continue-as-new keeps its place in a long wave, a second worker takes over where the first
 * stopped without repeating a step, and pause, abort and malformed signals behave as documented.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { RolloutActivities } from '../../libs/orchestration/src/activities';
import { SEARCH_ATTRIBUTES } from '../../libs/orchestration/src/contract';
import { eventually, temporalForSuite } from '../support/temporal-fixture';
import { ROLLOUT_WORKFLOW_TYPE, rolloutStateQuery, rolloutWorkflowIdFor } from '../../libs/orchestration/src/rollout-contract';

const WORKFLOWS = require.resolve('../../libs/orchestration/src/workflows');

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another suite in this process
}

type State = 'pending' | 'upgrading' | 'upgraded' | 'failed' | 'skipped';

/** A rollout in memory: members per wave, each check settles at most `settlePerCheck` upgrading members. */
class FakeRollout {
  readonly id = randomUUID();
  status = 'running';
  currentWave: number | null = null;
  members: { wave: number; state: State; upgrades: number }[];
  calls: string[] = [];
  events: { type: string; actor: string }[] = [];
  failIn = new Set<number>();
  constructor(
    readonly waveEnds: number[],
    readonly settlePerCheck = 1000,
  ) {
    this.members = Array.from({ length: waveEnds.at(-1)! }, (_, i) => ({ wave: waveEnds.findIndex((e) => i < e), state: 'pending', upgrades: 0 }));
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  activities(): RolloutActivities {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the activities are plain functions handed to the worker; they record on this fake
    const self = this;
    const counts = (wave: number) => {
      const c = { pending: 0, upgrading: 0, upgraded: 0, failed: 0, skipped: 0 };
      for (const m of self.members) if (m.wave === wave) c[m.state] += 1;
      return c;
    };
    return {
      async loadRollout() {
        self.calls.push('loadRollout');
        return { status: self.status as 'running', waves: self.waveEnds.length, currentWave: self.currentWave, approval: 'auto', pauseBetweenWavesSeconds: 0 };
      },
      async selectRolloutMembers() {
        self.calls.push('selectRolloutMembers');
        return { total: self.members.length, waves: self.waveEnds.length };
      },
      async beginRolloutWave(input) {
        self.calls.push(`beginRolloutWave ${input.wave}`);
        self.currentWave = input.wave;
      },
      async upgradeRolloutMembers(input) {
        self.calls.push('upgradeRolloutMembers');
        const page = self.members.filter((m) => m.wave === input.wave && m.state === 'pending').slice(0, input.limit);
        for (const m of page) {
          m.state = 'upgrading';
          m.upgrades += 1;
        }
        return { handled: page.length, more: page.length === input.limit };
      },
      async checkRolloutWave(input) {
        self.calls.push('checkRolloutWave');
        let settled = 0;
        for (const m of self.members) {
          if (m.wave !== input.wave || m.state !== 'upgrading' || settled >= self.settlePerCheck) continue;
          m.state = self.failIn.has(input.wave) ? 'failed' : 'upgraded';
          settled += 1;
        }
        const failedTotal = self.members.filter((m) => m.state === 'failed').length;
        return { counts: counts(input.wave), failedTotal, halted: failedTotal > 0 };
      },
      async setRolloutStatus(input) {
        self.calls.push(`setRolloutStatus ${input.status}`);
        if (!input.from.includes(self.status as never)) return false;
        self.status = input.status;
        self.events.push({ type: input.status, actor: input.actor });
        return true;
      },
      async recordRolloutEvent(input) {
        self.events.push({ type: input.type, actor: input.actor });
      },
    };
  }
}

describe('rolloutWorkflow (Temporal server, fake activities)', () => {
  const temporal = temporalForSuite();

  const worker = (fake: FakeRollout, taskQueue: string) => Worker.create({ connection: temporal.native(), taskQueue, workflowsPath: WORKFLOWS, activities: fake.activities() });
  const start = (fake: FakeRollout, taskQueue: string, extra: Record<string, unknown> = {}) =>
    temporal.client().workflow.start(ROLLOUT_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: rolloutWorkflowIdFor(fake.id),
      args: [{ rolloutId: fake.id, pollSeconds: 0.2, ...extra }],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.phase, value: 'running' }],
    });

  it('continues as new during a long wave and keeps its place: each wave begins once, each member is upgraded once', async () => {
    const fake = new FakeRollout([1, 3, 12], 1);
    const taskQueue = `rollout-test-${randomUUID()}`;
    const w = await worker(fake, taskQueue);
    await w.runUntil(async () => {
      const handle = await start(fake, taskQueue, { maxHistoryEvents: 40 });
      await handle.result();
      const first = await temporal.client().workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
      expect(first.historyLength).toBeLessThan(80);
      const last = await temporal.client().workflow.getHandle(handle.workflowId).describe();
      expect(last.runId).not.toBe(handle.firstExecutionRunId);
      expect(last.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('succeeded');
    });
    expect(fake.status).toBe('succeeded');
    expect(fake.calls.filter((c) => c.startsWith('beginRolloutWave'))).toEqual(['beginRolloutWave 0', 'beginRolloutWave 1', 'beginRolloutWave 2']);
    expect(fake.members.every((m) => m.state === 'upgraded' && m.upgrades === 1)).toBe(true);
  });

  it('is taken over by a new worker where the old one stopped', async () => {
    const fake = new FakeRollout([2, 10], 1);
    const taskQueue = `rollout-test-${randomUUID()}`;
    const first = await worker(fake, taskQueue);
    const handle = await first.runUntil(async () => {
      const h = await start(fake, taskQueue, { pollSeconds: 1 });
      await eventually(() => fake.currentWave === 1);
      return h;
    });
    const stoppedAt = fake.members.filter((m) => m.state === 'upgraded').length;
    expect(stoppedAt).toBeLessThan(10);
    const second = await worker(fake, taskQueue);
    await second.runUntil(handle.result());
    expect(fake.status).toBe('succeeded');
    expect(fake.count('beginRolloutWave 1')).toBe(1);
    expect(fake.members.map((m) => m.upgrades)).toEqual(Array(10).fill(1));
  });

  it('halts when a wave fails, leaving later waves pending', async () => {
    const fake = new FakeRollout([1, 4]);
    fake.failIn.add(0);
    const taskQueue = `rollout-test-${randomUUID()}`;
    await (await worker(fake, taskQueue)).runUntil(async () => (await start(fake, taskQueue)).result());
    expect(fake.status).toBe('failed');
    expect(fake.members.map((m) => m.state)).toEqual(['failed', 'pending', 'pending', 'pending']);
  });

  it('pauses at the next checkpoint, records a malformed signal, and aborts with the rest untouched', async () => {
    const fake = new FakeRollout([1, 2, 3], 0);
    const taskQueue = `rollout-test-${randomUUID()}`;
    await (
      await worker(fake, taskQueue)
    ).runUntil(async () => {
      const handle = await start(fake, taskQueue);
      await eventually(() => fake.members[0].state === 'upgrading');
      await handle.signal('pause', { requestedBy: 'ops' });
      await handle.signal('abort', 'not a payload');
      fake.members[0].state = 'upgraded'; // wave 1 settles on its own (settlePerCheck 0: only by hand)
      await eventually(() => fake.status === 'paused' && fake.events.some((e) => e.type === 'signal-rejected'));
      expect(fake.events).toEqual(
        expect.arrayContaining([
          { type: 'paused', actor: 'ops' },
          { type: 'signal-rejected', actor: 'temporal-signal' },
        ]),
      );
      expect((await handle.query(rolloutStateQuery)).phase).toBe('paused');
      expect(fake.count('beginRolloutWave 1')).toBe(0);
      await handle.signal('abort', { requestedBy: 'ops' });
      await handle.result();
    });
    expect(fake.status).toBe('aborted');
    expect(fake.events.at(-1)).toEqual({ type: 'aborted', actor: 'ops' });
    expect(fake.members.map((m) => m.state)).toEqual(['upgraded', 'pending', 'pending']);
  });
});
