/**
 * The deployment workflow on the real Temporal dev server with fake activities: the state
 * machine, signals, error handling and the drift timer, without a cluster. A replay test
 * checks that recorded histories still replay against the current workflow code.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { WorkflowExecutionDescription } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { DeploymentActivities, DesiredSummary } from '../../libs/orchestration/src/activities';
import { eventually, temporalForSuite } from '../support/temporal-fixture';
import { deleteSignal, driftSignal, reconcileSignal, SEARCH_ATTRIBUTES, stateQuery, upgradeSignal, WORKFLOW_TYPE, workflowIdFor } from '../../libs/orchestration/src/contract';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = require.resolve('../../libs/orchestration/src/workflows');
const HISTORIES = join(__dirname, 'fixtures', 'histories');
/**
 * Recorded histories, by the workflow code that wrote them. The drift patch is retired in steps
 * (patched → deprecatePatch → removal): histories from before the patch (drift checks as regular
 * activities) no longer replay once it is deprecated; those written under patched() and under
 * deprecatePatch do, and the latter also replay once the call is removed.
 */
const BEFORE_PATCH = join(HISTORIES, '0-before-drift-tick-patch');
const PATCHED = join(HISTORIES, '1-drift-tick-patched');
/** Recorded with the current code (deprecatePatch); the tests below write a missing one. */
const DEPRECATED = join(HISTORIES, '2-drift-tick-deprecated');
/** The workflow with the deprecatePatch call removed (step 3). */
const PATCH_REMOVED = join(__dirname, 'fixtures', 'workflows', 'drift-tick-patch.removed.ts');

/** Keeps a test's history as a replay fixture if it is missing, or when asked to (CAELUS_RECORD_HISTORY=1). */
async function recordFixture(name: string, workflowId: string): Promise<void> {
  const file = join(DEPRECATED, name);
  if (process.env.CAELUS_RECORD_HISTORY !== '1' && existsSync(file)) return;
  const { stdout } = await run(`${process.env.CAELUS_TOOLS_BIN}/temporal`, ['workflow', 'show', '--address', process.env.TEMPORAL_ADDRESS!, '--workflow-id', workflowId, '--output', 'json']);
  // Stack traces in failures name the checkout: committed files name no machine path.
  const roots = [...new Set([ROOT, dirname(realpathSync(join(ROOT, 'node_modules')))])];
  writeFileSync(
    file,
    roots.reduce((text, root) => text.split(root).join('<repo>'), stdout),
  );
}

function historiesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
}

const replays = new Map<string, Promise<string>>();
/**
 * The replay script's report for these arguments, run once per argument list. In a child process:
 * protobufjs' JSON codec does not survive jest's module sandbox. A failed replay exits 1; its report is kept.
 */
function replay(...args: string[]): Promise<string> {
  const key = args.join(' ');
  if (!replays.has(key)) {
    const done = run('npx', ['tsx', join(ROOT, 'scripts', 'replay-history.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (err: Error & { stdout?: string }) => (err.stdout ? err.stdout : Promise.reject(err)),
    );
    replays.set(key, done);
  }
  return replays.get(key)!;
}

/** 'deterministic', or why the replay of this history failed. */
function outcome(report: string, file: string): string {
  const line = report.split('\n').find((l) => l.startsWith(`replayed ${file}:`) || l.startsWith(`replay failed for ${file}:`));
  if (!line) return 'not replayed';
  return line.startsWith('replayed ') ? 'deterministic' : line;
}

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another suite in this process
}

/** An in-memory stand-in for Postgres and the cluster, recording every call. */
class FakeDeployment {
  calls: string[] = [];
  generation = 1;
  observedGeneration = 0;
  status: DesiredSummary['status'] = 'provisioning';
  templateId = randomUUID();
  templateVersion = '1.0.0';
  applyError: ApplicationFailure | null = null;
  driftIntervalSeconds = 3600;
  failedRecheckSeconds: number | undefined;
  suspended = false;
  /** Set: the worker assesses health, and `health` is what each assessment finds. */
  healthGraceSeconds: number | undefined;
  health: { status: 'healthy' | 'progressing' | 'unhealthy'; reason: string | null } = { status: 'healthy', reason: null };
  /** Holds acceptUpgrade until resolved, so signals pile up in the workflow's queue. */
  acceptGate: Promise<void> | null = null;
  events: string[] = [];
  acceptInputs: Record<string, unknown>[] = [];
  dropped: { count: number; templateIds: unknown[] }[] = [];
  tickInputs: { fresh?: boolean }[] = [];
  /** Holds driftTick (after it is counted) until resolved, so drift signals arrive while a check runs. */
  tickGate: Promise<void> | null = null;
  /** applyRelease heartbeats and never finishes (an install whose pods no node takes) until it is cancelled. */
  applyHangs = false;
  constructor(
    readonly deploymentId = randomUUID(),
    readonly deploymentUid = `wf-${randomUUID().slice(0, 8)}`,
  ) {}

  summary(): DesiredSummary {
    return {
      deploymentId: this.deploymentId,
      deploymentUid: this.deploymentUid,
      userId: 'u',
      productName: 'webapp',
      status: this.status,
      generation: this.generation,
      observedGeneration: this.observedGeneration,
      deleting: this.status === 'deleting' || this.status === 'deleted',
      templateId: this.templateId,
      templateVersion: this.templateVersion,
      appliedTemplateId: this.observedGeneration ? this.templateId : null,
      driftIntervalSeconds: this.driftIntervalSeconds,
      ...(this.failedRecheckSeconds ? { failedRecheckSeconds: this.failedRecheckSeconds } : {}),
      ...(this.suspended ? { suspended: true } : {}),
      ...(this.healthGraceSeconds ? { healthGraceSeconds: this.healthGraceSeconds } : {}),
    };
  }

  activities(): Partial<DeploymentActivities> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the activities are plain functions handed to the worker; they record on this fake
    const self = this;
    return {
      async loadDesiredState() {
        self.calls.push('loadDesiredState');
        return self.summary();
      },
      async ensureNamespace() {
        self.calls.push('ensureNamespace');
        return { created: true };
      },
      async applyRelease() {
        self.calls.push('applyRelease');
        if (self.applyHangs) {
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat('waiting for pods'), 200);
          try {
            await ctx.cancelled;
          } catch (err) {
            // As helm's process: a moment to stop after the signal.
            await new Promise((r) => setTimeout(r, 300));
            self.calls.push('applyStopped');
            throw err;
          } finally {
            clearInterval(beat);
          }
        }
        if (self.applyError) throw self.applyError;
        return { generation: self.generation, templateId: self.templateId, templateVersion: self.templateVersion, revision: self.generation, unlocked: false, rolledBack: false };
      },
      async recordApplied(input) {
        self.calls.push('recordApplied');
        if (input.generation !== self.generation) return false;
        self.observedGeneration = input.generation;
        self.status = 'ready';
        return true;
      },
      async recordFailure(input) {
        self.calls.push('recordFailure');
        self.events.push(`error: ${input.message}`);
        if (!input.deleting) self.status = 'error';
        return true;
      },
      async acceptUpgrade(input) {
        self.calls.push('acceptUpgrade');
        self.acceptInputs.push(input);
        await self.acceptGate;
        if (input.templateId === 'backwards' || input.rejected) {
          self.events.push('upgrade-rejected');
          return { outcome: 'rejected', reason: 'upgrades only go forward' };
        }
        self.generation += 1;
        self.templateVersion = '1.1.0';
        self.status = 'upgrading';
        return { outcome: 'accepted', generation: self.generation, templateVersion: '1.1.0' };
      },
      async recordDroppedUpgrades(input) {
        self.calls.push('recordDroppedUpgrades');
        self.dropped.push({ count: input.count, templateIds: input.templateIds });
      },
      async checkDrift() {
        self.calls.push('checkDrift');
        return { releaseMissing: false, drifted: 1, corrected: 1 };
      },
      async driftTick(input) {
        self.calls.push('driftTick');
        self.tickInputs.push({ fresh: input.fresh });
        await self.tickGate;
        const desired = self.summary();
        if (desired.generation !== input.generation) return { desired };
        return { desired, drift: { releaseMissing: false, drifted: 1, corrected: self.suspended ? 0 : 1 } };
      },
      async assessHealth() {
        self.calls.push('assessHealth');
        return { ...self.health };
      },
      async recordHealthChange(input) {
        self.calls.push('recordHealthChange');
        if (input.generation !== self.generation) return false;
        self.status = input.phase;
        self.events.push(input.phase === 'degraded' ? `degraded: ${input.reason}` : 'recovered');
        return true;
      },
      async holdRelease() {
        self.calls.push('holdRelease');
        return { held: self.suspended };
      },
      async uninstallRelease() {
        self.calls.push('uninstallRelease');
        return { uninstalled: true, kept: [] };
      },
      async deleteNamespace() {
        self.calls.push('deleteNamespace');
        return { deleted: true, waitedMs: 1 };
      },
      async markDeleted() {
        self.calls.push('markDeleted');
        self.status = 'deleted';
      },
    };
  }

  count(name: string): number {
    return this.calls.filter((c) => c === name).length;
  }
}

describe('deploymentWorkflow (Temporal server, fake activities)', () => {
  const temporal = temporalForSuite();

  async function withWorker<T>(fake: FakeDeployment, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `wf-test-${randomUUID()}`;
    // The worker's own throttle (apps/worker): cancellation reaches a heartbeating activity within seconds.
    const worker = await Worker.create({ connection: temporal.native(), taskQueue, workflowsPath: WORKFLOWS, activities: fake.activities(), maxHeartbeatThrottleInterval: '1s' });
    return worker.runUntil(fn(taskQueue));
  }

  function start(fake: FakeDeployment, taskQueue: string) {
    return temporal.client().workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: workflowIdFor(fake.deploymentUid),
      args: [{ deploymentId: fake.deploymentId, deploymentUid: fake.deploymentUid }],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.deploymentId, value: fake.deploymentId }],
    });
  }

  it('provisions, upgrades on a signal, rejects a bad upgrade, and deletes to completion', async () => {
    const sut = new FakeDeployment();
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      expect(sut.calls.slice(0, 4)).toEqual(['loadDesiredState', 'ensureNamespace', 'applyRelease', 'recordApplied']);
      const ready = await handle.query(stateQuery);
      expect(ready).toMatchObject({ phase: 'ready', appliedGeneration: 1, deploymentUid: sut.deploymentUid, templateVersion: '1.0.0' });

      await handle.signal(upgradeSignal, { templateId: 'backwards' });
      await eventually(() => sut.events.includes('upgrade-rejected'));
      expect(sut.count('applyRelease')).toBe(1);

      await handle.signal(upgradeSignal, { templateId: randomUUID(), requestedBy: 'admin' });
      await eventually(() => sut.observedGeneration === 2);
      expect(sut.count('applyRelease')).toBe(2);
      expect((await handle.query(stateQuery)).templateVersion).toBe('1.1.0');

      // A reconcile signal with nothing changed does not run helm again.
      const loads = sut.count('loadDesiredState');
      await handle.signal(reconcileSignal, {});
      await eventually(() => sut.count('loadDesiredState') > loads);
      expect(sut.count('applyRelease')).toBe(2);

      sut.status = 'deleting';
      sut.generation += 1;
      await handle.signal(deleteSignal, {});
      await handle.result();
      expect(sut.calls.slice(-3)).toEqual(['uninstallRelease', 'deleteNamespace', 'markDeleted']);

      const desc: WorkflowExecutionDescription = await handle.describe();
      expect(desc.status.name).toBe('COMPLETED');
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('deleted');
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.templateVersion)).toBe('1.1.0');
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.product)).toBe('webapp');

      await recordFixture('deployment-lifecycle.json', handle.workflowId);
    });
  });

  it('lets a delete interrupt an apply that cannot finish, and tears down once the apply stopped', async () => {
    const sut = new FakeDeployment();
    sut.applyHangs = true;
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.count('applyRelease') === 1);
      sut.status = 'deleting';
      sut.generation += 1;
      const asked = Date.now();
      await handle.signal(deleteSignal, {});
      await handle.result();
      // Within the heartbeat throttle, not after the apply's attempts (3 × the helm timeout).
      expect(Date.now() - asked).toBeLessThan(15_000);
      // The uninstall starts only after the apply has stopped, and the interruption is not an error.
      expect(sut.calls.slice(sut.calls.indexOf('applyRelease'))).toEqual(['applyRelease', 'applyStopped', 'loadDesiredState', 'uninstallRelease', 'deleteNamespace', 'markDeleted']);
      expect(sut.events).toEqual([]);
      const history = await handle.fetchHistory();
      // Recorded as cancelled (what the activity threw on its way out), not as a failure.
      expect((history.events ?? []).filter((e) => e.activityTaskCanceledEventAttributes)).toHaveLength(1);
      expect((history.events ?? []).filter((e) => e.activityTaskFailedEventAttributes)).toHaveLength(0);
      await recordFixture('delete-interrupts-apply.json', handle.workflowId);
    });
  });

  it('records a non-retryable failure once and waits for the next change instead of retrying', async () => {
    const sut = new FakeDeployment();
    sut.applyError = ApplicationFailure.create({ message: 'helm upgrade: values do not meet the chart schema: replicas must be <= 5', type: 'InvalidValues', nonRetryable: true });
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'error');
      const state = await handle.query(stateQuery);
      expect(state.phase).toBe('error');
      expect(state.lastError).toContain('replicas must be <= 5');
      await new Promise((r) => setTimeout(r, 3000));
      expect(sut.count('applyRelease')).toBe(1);
      expect(sut.count('recordFailure')).toBe(1);
      // A reconcile signal without a new generation (the supervisor, a duplicate API signal) is no retry.
      const loads = sut.count('loadDesiredState');
      await handle.signal(reconcileSignal, {});
      await eventually(() => sut.count('loadDesiredState') > loads);
      expect(sut.count('applyRelease')).toBe(1);
      // An operator's forced retry is.
      await handle.signal(reconcileSignal, { force: true });
      await eventually(() => sut.count('applyRelease') === 2);
      await eventually(() => sut.count('recordFailure') === 2);

      // A fixed values change (new generation) is applied.
      sut.applyError = null;
      sut.generation += 1;
      await handle.signal(reconcileSignal, { generation: sut.generation });
      await eventually(() => sut.status === 'ready');
      expect(sut.observedGeneration).toBe(2);
      await handle.terminate('test done');
    });
  });

  it('backs off after a transient failure: drift ticks and signals do not re-run helm early', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 1;
    sut.applyError = ApplicationFailure.create({ message: 'helm upgrade: connection refused', type: 'HelmError', nonRetryable: false });
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      // Temporal retries the activity itself first (HELM retry policy), then the workflow records the error.
      await eventually(() => sut.status === 'error', 60_000);
      const attempts = sut.count('applyRelease');
      expect(attempts).toBeGreaterThanOrEqual(1);
      await handle.signal(reconcileSignal, {});
      await new Promise((r) => setTimeout(r, 4000));
      // The workflow's own retry is due 15 s after the failure; nothing before that.
      expect(sut.count('applyRelease')).toBe(attempts);
      expect(sut.count('driftTick')).toBe(0);
      const state = await handle.query(stateQuery);
      expect(state.waitingFor).toMatch(/^retry at /);
      await handle.terminate('test done');
    });
  });

  it('runs a drift tick as a local activity when the drift timer fires, without loading the state again', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 1;
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      const loads = sut.count('loadDesiredState');
      await eventually(() => sut.count('driftTick') >= 3, 15000);
      expect(sut.count('applyRelease')).toBe(1);
      // The tick loaded the desired state itself: no regular activity per tick.
      expect(sut.count('loadDesiredState')).toBe(loads);
      expect(sut.count('checkDrift')).toBe(0);
      const state = await handle.query(stateQuery);
      expect(state.nextDriftCheckAt).not.toBeNull();
      await handle.terminate('test done');

      const events = (await handle.fetchHistory()).events ?? [];
      // Local activities leave a marker each (patches leave markers of their own, core_patch).
      const isTick = (e: (typeof events)[number]) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
      const markers = events.filter(isTick);
      expect(markers.length).toBeGreaterThanOrEqual(3);
      const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
      expect(scheduled).not.toContain('driftTick');
      // Each tick: timer started and fired, one workflow task (scheduled, started, completed), its marker.
      const firstTick = events.findIndex(isTick);
      const secondTick = events.findIndex((e, i) => i > firstTick && isTick(e));
      expect(secondTick - firstTick).toBeLessThanOrEqual(8);
      await recordFixture('drift-ticks.json', handle.workflowId);
    });
  });

  it('checks drift at once on a drift signal (many signals, one check; read fresh) with the safety net an hour away, and says why', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 3600;
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      await eventually(async () => (await handle.query(stateQuery)).waitingFor !== null);
      expect(sut.count('driftTick')).toBe(0);
      const before = await handle.query(stateQuery);
      expect(before.lastDriftCheck).toBeNull();
      const safetyNet = Date.parse(before.nextDriftCheckAt!);
      expect(safetyNet - Date.now()).toBeGreaterThan(0);
      expect(safetyNet - Date.now()).toBeLessThanOrEqual(3_600_000);

      await handle.signal(driftSignal, { reason: 'changed' });
      await eventually(() => sut.count('driftTick') === 1);
      expect(sut.tickInputs.at(-1)).toEqual({ fresh: true });
      await eventually(async () => (await handle.query(stateQuery)).lastDriftCheck?.trigger === 'watcher');
      // The safety-net timer stays where it was.
      expect((await handle.query(stateQuery)).nextDriftCheckAt).toBe(before.nextDriftCheckAt);

      // A resync reads through the worker's cache; a burst of signals is at most one check more than
      // the one already running. The check is held open while the burst lands, so however the
      // server splits the signals into workflow tasks, the bound is exact (a loaded machine used to
      // let the first check finish between signals).
      const raw = temporal.client().workflow.getHandle(handle.workflowId);
      await eventually(async () => (await handle.query(stateQuery)).waitingFor !== null);
      let release!: () => void;
      sut.tickGate = new Promise((r) => (release = r));
      for (let i = 0; i < 5; i++) await raw.signal('drift', { reason: 'resync' });
      await eventually(() => sut.count('driftTick') >= 2);
      sut.tickGate = null;
      release();
      await new Promise((r) => setTimeout(r, 1500));
      expect(sut.count('driftTick')).toBeLessThanOrEqual(3);
      expect(sut.tickInputs[1]).toEqual({ fresh: undefined });
      // Garbage is one check too, and forces nothing.
      const ticks = sut.count('driftTick');
      await eventually(async () => (await handle.query(stateQuery)).waitingFor !== null);
      await raw.signal('drift', 'x'.repeat(2000));
      await eventually(() => sut.count('driftTick') === ticks + 1);
      expect(sut.count('applyRelease')).toBe(1);
      expect(sut.count('loadDesiredState')).toBe(1);
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeLessThanOrEqual(ticks + 2);
      await handle.terminate('test done');
      await recordFixture('drift-signals.json', handle.workflowId);
    });
  });

  it('sees a change whose signal was lost at the next drift tick, and applies it', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 1;
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      // The API committed a new generation but its signal never arrived.
      sut.generation += 1;
      await eventually(() => sut.observedGeneration === 2, 15000);
      expect(sut.count('applyRelease')).toBe(2);
      await handle.terminate('test done');
    });
  });

  it('applies nothing while suspended (drift ticks go on), applies at once on resume, and deletes even when suspended', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 1;
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      const phase = async () => (await handle.query(stateQuery)).phase;
      sut.suspended = true;
      await handle.signal(reconcileSignal, {});
      await eventually(async () => (await phase()) === 'suspended');
      await eventually(async () => (await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase) === 'suspended');
      // The backend holds the release too (Flux stops its own reconciles), once per suspension.
      await eventually(() => sut.count('holdRelease') === 1);

      // A new generation and a forced reconcile wait; drift ticks keep running.
      sut.generation += 1;
      sut.status = 'upgrading';
      await handle.signal(reconcileSignal, { force: true });
      const ticks = sut.count('driftTick');
      await eventually(() => sut.count('driftTick') >= ticks + 2, 15000);
      expect(sut.count('applyRelease')).toBe(1);
      const held = await handle.query(stateQuery);
      expect(held).toMatchObject({ phase: 'suspended', appliedGeneration: 1, desiredGeneration: 2 });
      expect(held.waitingFor).toMatch(/^a resume \(suspended/);

      // Resume: what waited is applied at once.
      sut.suspended = false;
      await handle.signal(reconcileSignal, {});
      await eventually(() => sut.observedGeneration === 2);
      expect(sut.count('applyRelease')).toBe(2);
      await eventually(async () => (await phase()) === 'ready');

      // Resumed with nothing new: re-applied all the same (what drifted meanwhile comes back).
      sut.suspended = true;
      await handle.signal(reconcileSignal, {});
      await eventually(async () => (await phase()) === 'suspended');
      sut.suspended = false;
      await handle.signal(reconcileSignal, {});
      await eventually(() => sut.count('applyRelease') === 3);
      await eventually(async () => (await phase()) === 'ready');

      // A delete never waits for a resume (the row would not even say suspended; the workflow does not rely on that).
      sut.suspended = true;
      await handle.signal(reconcileSignal, {});
      await eventually(async () => (await phase()) === 'suspended');
      await eventually(() => sut.count('holdRelease') === 3);
      sut.status = 'deleting';
      sut.generation += 1;
      await handle.signal(deleteSignal, {});
      await handle.result();
      expect(sut.calls.slice(-3)).toEqual(['uninstallRelease', 'deleteNamespace', 'markDeleted']);
      expect(sut.count('applyRelease')).toBe(3);
      await recordFixture('suspend-resume.json', handle.workflowId);
    });
  });

  it('degrades a ready deployment whose workloads stay unhealthy past the grace, and brings it back to ready once healthy', async () => {
    const sut = new FakeDeployment();
    sut.healthGraceSeconds = 2;
    sut.health = { status: 'progressing', reason: 'Deployment/web: 0 of 1 replicas available' };
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      const phase = async () => (await handle.query(stateQuery)).phase;
      await eventually(() => sut.status === 'ready');
      const readyAt = Date.now();
      await eventually(() => sut.status === 'degraded', 15_000);
      // Not before the grace: the workflow looked again when it ended (no drift tick: its interval is an hour).
      expect(Date.now() - readyAt).toBeGreaterThanOrEqual(1000);
      expect(sut.events).toEqual(['degraded: Deployment/web: 0 of 1 replicas available']);
      await eventually(async () => (await phase()) === 'degraded');
      await eventually(async () => (await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase) === 'degraded');
      expect((await handle.query(stateQuery)).waitingFor).toMatch(/^a signal or the health check at /);

      sut.health = { status: 'healthy', reason: null };
      await eventually(() => sut.status === 'ready', 15_000);
      await eventually(async () => (await phase()) === 'ready');
      expect(sut.events).toEqual(['degraded: Deployment/web: 0 of 1 replicas available', 'recovered']);
      expect(sut.count('applyRelease')).toBe(1);
      expect(sut.count('driftTick')).toBe(0);

      sut.status = 'deleting';
      sut.generation += 1;
      await handle.signal(deleteSignal, {});
      await handle.result();
      await recordFixture('health.json', handle.workflowId);
    });
  });

  it('continues as new when the history grows long, keeping its state', async () => {
    const sut = new FakeDeployment();
    sut.driftIntervalSeconds = 1;
    await withWorker(sut, async (taskQueue) => {
      const handle = await temporal.client().workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: workflowIdFor(sut.deploymentUid),
        args: [{ deploymentId: sut.deploymentId, deploymentUid: sut.deploymentUid, maxHistoryEvents: 40 }],
      });
      const firstRunId = handle.firstExecutionRunId;
      await eventually(async () => (await temporal.client().workflow.getHandle(handle.workflowId).describe()).runId !== firstRunId, 60_000);
      const first = await temporal.client().workflow.getHandle(handle.workflowId, firstRunId).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
      expect(first.historyLength).toBeLessThan(80);
      // The new run knows the release is applied: no second helm run.
      await eventually(async () => (await temporal.client().workflow.getHandle(handle.workflowId).query(stateQuery)).phase === 'ready');
      expect(sut.count('applyRelease')).toBe(1);
      await temporal.client().workflow.getHandle(handle.workflowId).terminate('test done');
    });
  });

  it('can be found by CaelusDeploymentId in visibility', async () => {
    const sut = new FakeDeployment();
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      let found: string[] = [];
      await eventually(async () => {
        found = [];
        for await (const wf of temporal.client().workflow.list({ query: `CaelusDeploymentId = '${sut.deploymentId}'` })) found.push(wf.workflowId);
        return found.length > 0;
      });
      expect(found).toEqual([workflowIdFor(sut.deploymentUid)]);
      await handle.terminate('test done');
    });
  });

  it('re-reads its desired state on the re-check timer after failing for good, and acts on a delete whose signal was lost', async () => {
    const sut = new FakeDeployment();
    sut.failedRecheckSeconds = 2;
    sut.applyError = ApplicationFailure.create({ message: 'helm install: values do not meet the chart schema: replicas must be <= 5', type: 'InvalidValues', nonRetryable: true });
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'error');
      await eventually(async () => /re-check at/.test((await handle.query(stateQuery)).waitingFor ?? ''));
      // The timer re-reads the state; the same generation is not retried.
      const loads = sut.count('loadDesiredState');
      await eventually(() => sut.count('loadDesiredState') >= loads + 2, 15_000);
      expect(sut.count('applyRelease')).toBe(1);
      expect(sut.count('recordFailure')).toBe(1);

      // The API committed a deletion; its signal never arrived.
      sut.status = 'deleting';
      sut.generation += 1;
      await eventually(() => sut.status === 'deleted', 15_000);
      await handle.result();
      expect(sut.calls.slice(-3)).toEqual(['uninstallRelease', 'deleteNamespace', 'markDeleted']);
      const markers = ((await handle.fetchHistory()).events ?? []).filter((e) => e.markerRecordedEventAttributes);
      expect(markers.length).toBeGreaterThanOrEqual(1);
      await recordFixture('failed-recheck-delete.json', handle.workflowId);
    });
  });

  it('records malformed raw signals as rejected without failing or forcing anything, and records what a full upgrade queue dropped', async () => {
    const sut = new FakeDeployment();
    await withWorker(sut, async (taskQueue) => {
      const handle = await start(sut, taskQueue);
      await eventually(() => sut.status === 'ready');
      // Untyped, as `temporal workflow signal --input ...` would send them.
      const raw = temporal.client().workflow.getHandle(handle.workflowId);
      const huge = 'x'.repeat(5_000);
      const malformed: unknown[] = [
        'a string',
        42,
        null,
        [randomUUID()],
        { templateId: huge },
        { templateId: `${randomUUID().slice(0, 35)}\u0000` },
        { templateId: randomUUID(), requestedBy: 'ad\u0000min' },
        { templateId: randomUUID(), requestedBy: huge },
        { templateId: randomUUID(), extra: true },
      ];
      for (const payload of malformed) await raw.signal('upgrade', payload);
      await raw.signal('reconcile', 'force');
      await raw.signal('reconcile', { force: 'yes' });
      await raw.signal('delete', { generation: 'soon' });
      await raw.signal('delete', 12);
      await eventually(() => sut.events.filter((e) => e === 'upgrade-rejected').length === malformed.length);
      expect(sut.acceptInputs.every((i) => typeof i.rejected === 'string')).toBe(true);
      // No raw payload reaches an activity's input (nor the history of its scheduling).
      expect(JSON.stringify(sut.acceptInputs)).not.toContain('xxxxxxxxxx');
      expect(JSON.stringify(sut.acceptInputs)).not.toContain('\\u0000');
      // Garbage neither forces an apply nor deletes.
      await eventually(async () => (await handle.query(stateQuery)).waitingFor !== null);
      expect(sut.count('applyRelease')).toBe(1);
      expect(sut.count('uninstallRelease')).toBe(0);
      expect((await handle.query(stateQuery)).phase).toBe('ready');

      // A flood: 25 upgrade signals while the first is being validated. 20 wait, 4 are dropped.
      let open!: () => void;
      sut.acceptGate = new Promise<void>((r) => (open = r));
      const target = randomUUID();
      await raw.signal('upgrade', { templateId: target });
      await eventually(() => sut.acceptInputs.length === malformed.length + 1);
      for (let i = 0; i < 24; i++) await raw.signal('upgrade', { templateId: i < 20 ? target : randomUUID(), requestedBy: 'flood' });
      await eventually(async () => (await handle.query(stateQuery)).pendingUpgrades === 20);
      sut.acceptGate = null;
      open();
      await eventually(() => sut.dropped.length === 1, 20_000);
      expect(sut.dropped[0].count).toBe(4);
      expect(sut.dropped[0].templateIds).toHaveLength(4);
      expect(sut.count('acceptUpgrade')).toBe(malformed.length + 21);
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      expect(events.filter((e) => e.activityTaskFailedEventAttributes)).toEqual([]);
      await handle.terminate('test done');
      await recordFixture('raw-signals.json', handle.workflowId);
    });
  });

  it('replays the recorded histories with the current workflow code', async () => {
    // Every history that running workflows may have: the lifecycle, drift ticks, the re-check
    // timer and raw signals, recorded before the drift patch was deprecated and after; a Flux
    // backend deployment upgraded by a rollout, and that rollout, recorded before the activities
    // had task priorities (priority is not part of determinism).
    const files = [...historiesIn(PATCHED), ...historiesIn(DEPRECATED)];
    expect(files.length).toBeGreaterThanOrEqual(5);
    const stdout = await replay(...historiesIn(BEFORE_PATCH), ...files);
    expect(stdout.match(/deterministic/g)).toHaveLength(files.length);
  });

  describe('retiring the drift patch (patched → deprecatePatch → removal)', () => {
    it('step 1 → 2: histories recorded under patched() replay with deprecatePatch', async () => {
      const report = await replay(...historiesIn(BEFORE_PATCH), ...historiesIn(PATCHED), ...historiesIn(DEPRECATED));
      expect(historiesIn(PATCHED).map((f) => outcome(report, f))).toEqual(historiesIn(PATCHED).map(() => 'deterministic'));
    });

    it('step 2: histories recorded with deprecatePatch replay, and mark the patch deprecated', async () => {
      const report = await replay(...historiesIn(BEFORE_PATCH), ...historiesIn(PATCHED), ...historiesIn(DEPRECATED));
      expect(historiesIn(DEPRECATED).map((f) => outcome(report, f))).toEqual(historiesIn(DEPRECATED).map(() => 'deterministic'));
      const health = readFileSync(join(DEPRECATED, 'health.json'), 'utf8');
      // Recorded under patched(HEALTH_PATCH): the health steps replay only behind it.
      expect(health).toContain(Buffer.from(JSON.stringify({ id: 'workload-health', deprecated: false })).toString('base64'));
      const ticks = readFileSync(join(DEPRECATED, 'drift-ticks.json'), 'utf8');
      const marker = Buffer.from(JSON.stringify({ id: 'drift-tick-local-activity', deprecated: true })).toString('base64');
      expect(ticks).toContain(marker);
    });

    it('step 2 needs every run from before the patch gone: a history with drift checks as regular activities no longer replays', async () => {
      const report = await replay(...historiesIn(BEFORE_PATCH), ...historiesIn(PATCHED), ...historiesIn(DEPRECATED));
      expect(historiesIn(BEFORE_PATCH).length).toBeGreaterThan(0);
      for (const file of historiesIn(BEFORE_PATCH)) expect(outcome(report, file)).toMatch(/nondeterminism/i);
    });

    it('step 3: with the call removed, histories recorded with deprecatePatch still replay (and those under patched() do not, so step 3 waits for them)', async () => {
      const report = await replay('--replace', `drift-tick-patch=${PATCH_REMOVED}`, ...historiesIn(DEPRECATED), join(PATCHED, 'drift-ticks.json'));
      expect(historiesIn(DEPRECATED).map((f) => outcome(report, f))).toEqual(historiesIn(DEPRECATED).map(() => 'deterministic'));
      expect(outcome(report, join(PATCHED, 'drift-ticks.json'))).toMatch(/nondeterminism/i);
    });
  });
});
