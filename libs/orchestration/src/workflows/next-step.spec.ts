import { WORKFLOW_PHASES, WorkflowPhase } from '../contract';
import {
  DeploymentMemory,
  describeWait,
  DesiredView,
  driftSlotOf,
  HealthMemory,
  nextDriftTime,
  nextStep,
  observe,
  observeHealth,
  Pending,
  retryDelayMs,
  Round,
  Schedule,
  Stage,
  Step,
  Wake,
} from './next-step';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const UPGRADE = { templateId: '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd' };

function desired(over: Partial<DesiredView> = {}): DesiredView {
  return { status: 'ready', generation: 2, observedGeneration: 2, deleting: false, driftIntervalSeconds: 60, ...over };
}

interface Given {
  stage?: Stage;
  desired?: DesiredView | null;
  tickDesired?: DesiredView | null;
  woken?: Round['woken'];
  phase?: WorkflowPhase;
  appliedGeneration?: number;
  pending?: Partial<Pending>;
  schedule?: Partial<Schedule>;
}

function memory(given: Given = {}): DeploymentMemory {
  const round: Round = { stage: given.stage ?? 'act', desired: 'desired' in given ? given.desired : desired() };
  if ('tickDesired' in given) round.tickDesired = given.tickDesired;
  if (given.woken) round.woken = given.woken;
  return {
    view: {
      deploymentId: 'd',
      deploymentUid: 'u',
      phase: given.phase ?? 'ready',
      appliedGeneration: given.appliedGeneration ?? 2,
      desiredGeneration: 2,
      templateVersion: '1.0.0',
      consecutiveFailures: 0,
      lastError: null,
      waitingFor: null,
      nextDriftCheckAt: null,
      pendingUpgrades: 0,
      historyLength: 0,
    },
    pending: { reconcile: false, delete: false, force: false, upgrades: [], dropped: { count: 0, templateIds: [] }, ...given.pending },
    schedule: { failedGeneration: null, retryAt: null, nextDriftAt: null, recheckSeconds: 900, ...given.schedule },
    round,
    productName: 'webapp',
  };
}

const waitDrift = (at: number): Step => ({ kind: 'wait', wake: { kind: 'drift', at }, nextDriftAt: at });
const waitRetry = (at: number, nextDriftAt = NOW + MINUTE): Step => ({ kind: 'wait', wake: { kind: 'retry', at }, nextDriftAt });
const waitRecheck = (at: number, nextDriftAt = NOW + MINUTE): Step => ({ kind: 'wait', wake: { kind: 'recheck', at }, nextDriftAt });
const again: Step = { kind: 'again', keepTickState: false };

describe(nextStep.name, () => {
  describe('receiving signals at the start of a round', () => {
    it.each<[string, Given, Step]>([
      ['accepts a queued upgrade first', { stage: 'receive', pending: { upgrades: [UPGRADE] } }, { kind: 'accept-upgrade' }],
      ['accepts upgrades before recording dropped ones', { stage: 'receive', pending: { upgrades: [UPGRADE], dropped: { count: 3, templateIds: [] } } }, { kind: 'accept-upgrade' }],
      ['records dropped upgrades once the queue is empty', { stage: 'receive', pending: { dropped: { count: 3, templateIds: [] } } }, { kind: 'record-dropped' }],
      ['loads the desired state when nothing is queued', { stage: 'receive', pending: { reconcile: true } }, { kind: 'load' }],
      ['takes the state a drift tick loaded', { stage: 'receive', tickDesired: desired() }, { kind: 'take-tick-state' }],
      ['takes a drift tick that found the row gone', { stage: 'receive', tickDesired: null }, { kind: 'take-tick-state' }],
      ['loads after the dropped upgrades were recorded (once a round)', { stage: 'load', pending: { dropped: { count: 3, templateIds: [] } } }, { kind: 'load' }],
      ['takes the tick state after the dropped upgrades', { stage: 'load', tickDesired: desired() }, { kind: 'take-tick-state' }],
    ])('%s', (_name, given, step) => {
      expect(nextStep(memory(given), NOW, false)).toEqual(step);
    });
  });

  describe('acting on the loaded desired state', () => {
    it.each<[string, Given, Step]>([
      ['finishes when the row is gone', { desired: null }, { kind: 'finish' }],
      ['finishes when the row is deleted', { desired: desired({ status: 'deleted', deleting: true }) }, { kind: 'finish' }],
      ['tears down a deleting deployment', { desired: desired({ status: 'deleting', deleting: true, generation: 3 }) }, { kind: 'teardown' }],
      ['tears down when the delete retry is due', { desired: desired({ status: 'deleting', deleting: true }), schedule: { retryAt: NOW } }, { kind: 'teardown' }],
      [
        'tears down before the retry on a delete signal',
        { desired: desired({ status: 'deleting', deleting: true }), schedule: { retryAt: NOW + MINUTE }, pending: { delete: true } },
        { kind: 'teardown' },
      ],
      ['waits for the delete retry', { desired: desired({ status: 'deleting', deleting: true }), schedule: { retryAt: NOW + MINUTE } }, waitRetry(NOW + MINUTE)],
      ['applies a new generation', { desired: desired({ generation: 3 }) }, { kind: 'apply' }],
      ['applies a first install', { appliedGeneration: 0, phase: 'loading', desired: desired({ status: 'provisioning', generation: 1, observedGeneration: 0 }) }, { kind: 'apply' }],
      ['applies a forced reconcile of the applied generation', { pending: { force: true } }, { kind: 'apply' }],
      ['applies when the transient retry is due', { schedule: { retryAt: NOW, failedGeneration: 2 }, appliedGeneration: 1 }, { kind: 'apply' }],
      ['applies when the retry is overdue', { schedule: { retryAt: NOW - MINUTE }, phase: 'error' }, { kind: 'apply' }],
      ['waits for the transient retry', { schedule: { retryAt: NOW + MINUTE, failedGeneration: 2 }, appliedGeneration: 1, phase: 'error' }, waitRetry(NOW + MINUTE)],
      ['does not retry a generation failed for good', { schedule: { failedGeneration: 2 }, appliedGeneration: 1, phase: 'error' }, waitRecheck(NOW + 900_000)],
      ['applies a new generation after failing for good', { desired: desired({ generation: 3 }), schedule: { failedGeneration: 2 }, appliedGeneration: 1, phase: 'error' }, { kind: 'apply' }],
      ['applies a forced reconcile after failing for good', { schedule: { failedGeneration: null }, pending: { force: true }, appliedGeneration: 1, phase: 'error' }, { kind: 'apply' }],
      ['settles a fresh run on ready', { phase: 'loading' }, { kind: 'settle', phase: 'ready' }],
      ['settles a fresh run of a degraded deployment on ready', { phase: 'loading', desired: desired({ status: 'degraded' }) }, { kind: 'settle', phase: 'ready' }],
      ['settles a fresh run of a failed deployment on error', { phase: 'loading', desired: desired({ status: 'error' }) }, { kind: 'settle', phase: 'error' }],
      ['waits for the drift timer when nothing changed', {}, waitDrift(NOW + MINUTE)],
      ['goes round again on a signal that came during the load', { pending: { reconcile: true } }, again],
    ])('%s', (_name, given, step) => {
      expect(nextStep(memory(given), NOW, false)).toEqual(step);
    });

    it.each<WorkflowPhase>(['provisioning', 'upgrading', 'ready', 'error', 'deleting'])('applies a new generation in phase %s', (phase) => {
      expect(nextStep(memory({ phase, desired: desired({ generation: 3 }) }), NOW, false)).toEqual({ kind: 'apply' });
    });

    it.each<WorkflowPhase>(['provisioning', 'upgrading', 'ready', 'error', 'deleting'])('waits in phase %s when nothing changed', (phase) => {
      expect(nextStep(memory({ phase }), NOW, false)).toEqual(waitDrift(NOW + MINUTE));
    });

    const SIGNALS: [string, Partial<Pending>][] = [
      ['reconcile', { reconcile: true }],
      ['upgrade', { upgrades: [UPGRADE] }],
      ['reconcile and upgrade', { reconcile: true, upgrades: [UPGRADE] }],
    ];
    const settled = WORKFLOW_PHASES.filter((p) => p !== 'loading');
    const cases = settled.flatMap((phase) => SIGNALS.map(([name, pending]) => [phase, name, pending] as const));

    it.each(cases)('in phase %s, a %s signal that came during the load sends the round again', (phase, _name, pending) => {
      expect(nextStep(memory({ phase, pending }), NOW, false)).toEqual(again);
    });

    it.each(cases)('in phase %s, a values change is applied before a %s signal is looked at', (phase, _name, pending) => {
      expect(nextStep(memory({ phase, pending, desired: desired({ generation: 3 }) }), NOW, false)).toEqual({ kind: 'apply' });
    });

    it.each(SIGNALS)('a fresh run settles its phase before a %s signal is looked at', (_name, pending) => {
      expect(nextStep(memory({ phase: 'loading', pending }), NOW, false)).toEqual({ kind: 'settle', phase: 'ready' });
    });

    it.each(SIGNALS)('a deleting deployment waiting for its retry goes round again on a %s signal', (_name, pending) => {
      const deleting = desired({ status: 'deleting', deleting: true });
      expect(nextStep(memory({ phase: 'deleting', desired: deleting, pending, schedule: { retryAt: NOW + MINUTE } }), NOW, false)).toEqual(again);
    });

    it('continues as new when there is nothing to do and the history is full', () => {
      expect(nextStep(memory(), NOW, true)).toEqual({ kind: 'continue-as-new' });
    });

    it('acts before it continues as new', () => {
      expect(nextStep(memory({ desired: desired({ generation: 3 }) }), NOW, true)).toEqual({ kind: 'apply' });
      expect(nextStep(memory({ desired: desired({ status: 'deleting', deleting: true }) }), NOW, true)).toEqual({ kind: 'teardown' });
    });
  });

  describe('suspended', () => {
    const suspended = (over: Partial<DesiredView> = {}) => desired({ suspended: true, ...over });
    it.each<[string, Given, Step]>([
      ['settles on suspended when it sees the suspension', { desired: suspended() }, { kind: 'settle', phase: 'suspended' }],
      ['settles a fresh run of a suspended deployment on suspended', { phase: 'loading', desired: suspended() }, { kind: 'settle', phase: 'suspended' }],
      ['does not apply a new generation', { phase: 'suspended', desired: suspended({ generation: 3, status: 'upgrading' }) }, waitDrift(NOW + MINUTE)],
      ['does not apply a forced reconcile (a missing release either)', { phase: 'suspended', desired: suspended(), pending: { force: true } }, waitDrift(NOW + MINUTE)],
      ['does not retry a failed apply', { phase: 'suspended', desired: suspended(), schedule: { retryAt: NOW - MINUTE, failedGeneration: 2 }, appliedGeneration: 1 }, waitDrift(NOW + MINUTE)],
      [
        'keeps its drift checks while failed for good',
        { phase: 'suspended', desired: suspended({ status: 'error' }), schedule: { failedGeneration: 2 }, appliedGeneration: 1 },
        waitDrift(NOW + MINUTE),
      ],
      ['keeps the drift timer already set', { phase: 'suspended', desired: suspended(), schedule: { nextDriftAt: NOW + 5_000 } }, waitDrift(NOW + 5_000)],
      [
        'still tears down a deployment being deleted',
        { phase: 'suspended', desired: desired({ status: 'deleting', deleting: true, generation: 3 }), schedule: { suspended: true } },
        { kind: 'teardown' },
      ],
      ['goes round again on a signal', { phase: 'suspended', desired: suspended(), pending: { reconcile: true } }, again],
      ['continues as new when the history is full', { phase: 'suspended', desired: suspended() }, { kind: 'continue-as-new' }],
      ['applies at once when resumed, although the generation was applied', { phase: 'suspended', schedule: { suspended: true } }, { kind: 'apply' }],
      ['applies what waited when resumed', { phase: 'suspended', desired: desired({ generation: 3, status: 'upgrading' }), schedule: { suspended: true } }, { kind: 'apply' }],
      [
        'applies when resumed after failing for good',
        { phase: 'suspended', desired: desired({ status: 'error' }), schedule: { suspended: true, failedGeneration: 2 }, appliedGeneration: 1 },
        { kind: 'apply' },
      ],
      ['applies when a fresh run is resumed (carried over by continue-as-new)', { phase: 'loading', schedule: { suspended: true } }, { kind: 'apply' }],
    ])('%s', (name, given, step) => {
      expect(nextStep(memory(given), NOW, name.startsWith('continues as new'))).toEqual(step);
    });

    it('runs the drift tick when its timer fires', () => {
      const given: Given = { stage: 'woken', phase: 'suspended', desired: suspended(), woken: { signalled: false, wake: { kind: 'drift', at: NOW } }, schedule: { nextDriftAt: NOW } };
      expect(nextStep(memory(given), NOW, false)).toEqual({ kind: 'drift-tick', nextDriftAt: NOW + MINUTE });
    });
  });

  describe('after the action', () => {
    it.each<[string, Given, boolean, Step]>([
      ['continues as new when the history is full', {}, true, { kind: 'continue-as-new' }],
      ['continues as new even with signals pending (they are carried over)', { pending: { reconcile: true, upgrades: [UPGRADE] } }, true, { kind: 'continue-as-new' }],
      ['goes round again on a reconcile signal', { pending: { reconcile: true } }, false, again],
      ['goes round again on a delete signal', { pending: { delete: true } }, false, again],
      ['goes round again on a queued upgrade', { pending: { upgrades: [UPGRADE] } }, false, again],
      ['waits for the drift timer already set', { schedule: { nextDriftAt: NOW + 5_000 } }, false, waitDrift(NOW + 5_000)],
      ['sets the drift timer one interval ahead', {}, false, waitDrift(NOW + MINUTE)],
      ['waits for an overdue drift timer', { schedule: { nextDriftAt: NOW - 5_000 } }, false, waitDrift(NOW - 5_000)],
      ['waits for the retry after a transient failure', { schedule: { retryAt: NOW + 15_000, failedGeneration: 2 } }, false, waitRetry(NOW + 15_000)],
      ['waits for the re-check after failing for good', { schedule: { failedGeneration: 2, recheckSeconds: 30 } }, false, waitRecheck(NOW + 30_000)],
      ['waits for the retry of a failed delete', { desired: desired({ status: 'deleting', deleting: true }), schedule: { retryAt: NOW + 15_000 } }, false, waitRetry(NOW + 15_000)],
      ['waits for the re-check while deleting without a retry', { desired: desired({ status: 'deleting', deleting: true }) }, false, waitRecheck(NOW + 900_000)],
      ['keeps the drift timer while failing', { schedule: { failedGeneration: 2, nextDriftAt: NOW + 5_000 } }, false, waitRecheck(NOW + 900_000, NOW + 5_000)],
    ])('%s', (_name, given, historyFull, step) => {
      expect(nextStep(memory({ ...given, stage: 'acted' }), NOW, historyFull)).toEqual(step);
    });

    it('finishes after a teardown', () => {
      expect(nextStep(memory({ stage: 'deleted' }), NOW, false)).toEqual({ kind: 'finish' });
    });
  });

  describe('after a wait', () => {
    const drift: Wake = { kind: 'drift', at: NOW };
    it.each<[string, Given, Step]>([
      ['runs a drift tick when the drift timer fired', { woken: { signalled: false, wake: drift }, schedule: { nextDriftAt: NOW } }, { kind: 'drift-tick', nextDriftAt: NOW + MINUTE }],
      ['runs an overdue drift tick', { woken: { signalled: false, wake: drift }, schedule: { nextDriftAt: NOW - MINUTE } }, { kind: 'drift-tick', nextDriftAt: NOW + MINUTE }],
      ['does not tick before the drift timer is due', { woken: { signalled: false, wake: drift }, schedule: { nextDriftAt: NOW + 1 } }, again],
      ['goes round again on a signal instead of ticking', { woken: { signalled: true, wake: drift }, schedule: { nextDriftAt: NOW } }, again],
      ['goes round again when the retry timer fired', { woken: { signalled: false, wake: { kind: 'retry', at: NOW } }, schedule: { nextDriftAt: NOW } }, again],
      ['goes round again when the re-check timer fired', { woken: { signalled: false, wake: { kind: 'recheck', at: NOW } }, schedule: { nextDriftAt: NOW } }, again],
      ['goes round again on a signal after waiting for one only', { woken: { signalled: true, wake: { kind: 'signal' } }, schedule: { nextDriftAt: NOW } }, again],
    ])('%s', (_name, given, step) => {
      expect(nextStep(memory({ ...given, stage: 'woken' }), NOW, false)).toEqual(step);
    });
  });

  describe('after a drift tick', () => {
    it.each<[string, Partial<Pending>, boolean]>([
      ['keeps the state the tick loaded when no signal came', {}, true],
      ['loads again after a reconcile signal during the tick', { reconcile: true }, false],
      ['loads again after a delete signal during the tick', { delete: true }, false],
      ['loads again after an upgrade signal during the tick', { upgrades: [UPGRADE] }, false],
    ])('%s', (_name, pending, keepTickState) => {
      expect(nextStep(memory({ stage: 'ticked', tickDesired: desired(), pending }), NOW, true)).toEqual({ kind: 'again', keepTickState });
    });
  });
});

describe('drift signals from the cluster watcher', () => {
  const drift: Wake = { kind: 'drift', at: NOW + 5_000 };
  const watcherTick = (nextDriftAt: number): Step => ({ kind: 'drift-tick', nextDriftAt, trigger: 'watcher' });
  it.each<[string, Given, Step]>([
    [
      'checks at once when a drift signal ended the wait, leaving the safety-net timer',
      { stage: 'woken', woken: { signalled: true, wake: drift }, pending: { drift: 'changed' }, schedule: { nextDriftAt: NOW + 5_000 } },
      watcherTick(NOW + 5_000),
    ],
    ['checks on a resync signal too', { stage: 'woken', woken: { signalled: true, wake: drift }, pending: { drift: 'resync' }, schedule: { nextDriftAt: NOW + 5_000 } }, watcherTick(NOW + 5_000)],
    [
      'loads first when a reconcile came with the drift signal (the check follows)',
      { stage: 'woken', woken: { signalled: true, wake: drift }, pending: { drift: 'changed', reconcile: true }, schedule: { nextDriftAt: NOW + 5_000 } },
      again,
    ],
    [
      "checks after the round when a drift signal came during it (a correction's echo)",
      { stage: 'acted', pending: { drift: 'changed' }, schedule: { nextDriftAt: NOW + 5_000 } },
      watcherTick(NOW + 5_000),
    ],
    ['sets the safety-net timer for a check on a signal when none is set', { stage: 'acted', pending: { drift: 'changed' } }, watcherTick(NOW + MINUTE)],
    [
      'checks a suspended deployment (drift is recorded, not corrected)',
      { stage: 'acted', phase: 'suspended', desired: desired({ suspended: true }), pending: { drift: 'changed' }, schedule: { nextDriftAt: NOW + 5_000 } },
      watcherTick(NOW + 5_000),
    ],
    [
      'does not check a release that failed for good: it waits for a change or the re-check',
      { stage: 'acted', pending: { drift: 'changed' }, schedule: { failedGeneration: 2 } },
      waitRecheck(NOW + 900_000),
    ],
    [
      'does not check while a retry is due',
      { stage: 'woken', woken: { signalled: false, wake: { kind: 'retry', at: NOW } }, pending: { drift: 'changed' }, schedule: { retryAt: NOW, failedGeneration: 2 } },
      again,
    ],
    [
      'does not check a deployment being deleted',
      { stage: 'acted', desired: desired({ status: 'deleting', deleting: true }), pending: { drift: 'changed' }, schedule: { retryAt: NOW + 15_000 } },
      waitRetry(NOW + 15_000),
    ],
    ['still continues as new first (the signal is carried over)', { stage: 'acted', pending: { drift: 'changed' } }, { kind: 'continue-as-new' }],
  ])('%s', (name, given, step) => {
    expect(nextStep(memory(given), NOW, name.startsWith('still continues as new'))).toEqual(step);
  });

  it('runs a safety-net tick, not a watcher tick, when the timer fired with a drift signal pending', () => {
    const given: Given = { stage: 'woken', woken: { signalled: false, wake: { kind: 'drift', at: NOW } }, pending: { drift: 'changed' }, schedule: { nextDriftAt: NOW } };
    expect(nextStep(memory(given), NOW, false)).toEqual({ kind: 'drift-tick', nextDriftAt: NOW + MINUTE });
  });
});

describe("the safety-net schedule at the deployment's slot", () => {
  const HOUR = 3_600_000;
  it('sets the first timer at the slot, within one interval', () => {
    const slot = 0.25;
    const at = nextDriftTime({ driftSlot: slot }, NOW + 10 * MINUTE, 3600);
    expect(at).toBe(NOW + 15 * MINUTE);
    expect(nextStep(memory({ stage: 'acted', desired: desired({ driftIntervalSeconds: 3600 }), schedule: { driftSlot: slot } }), NOW + 10 * MINUTE, false)).toEqual(waitDrift(NOW + 15 * MINUTE));
  });

  it('ticks once per interval at the same slot, whenever the timer fires', () => {
    const given: Given = {
      stage: 'woken',
      desired: desired({ driftIntervalSeconds: 3600 }),
      woken: { signalled: false, wake: { kind: 'drift', at: NOW + 15 * MINUTE } },
      schedule: { driftSlot: 0.25, nextDriftAt: NOW + 15 * MINUTE },
    };
    expect(nextStep(memory(given), NOW + 15 * MINUTE + 40, false)).toEqual({ kind: 'drift-tick', nextDriftAt: NOW + HOUR + 15 * MINUTE });
  });

  it.each([0, 0.5, 0.999999])('is always after now and at most one interval ahead (slot %p)', (driftSlot) => {
    for (const now of [NOW, NOW + 1, NOW + 59_999, NOW + 60_000, NOW + 12_345_678]) {
      const at = nextDriftTime({ driftSlot }, now, 60);
      expect(at).toBeGreaterThan(now);
      expect(at).toBeLessThanOrEqual(now + MINUTE);
      expect((at - Math.floor(driftSlot * MINUTE)) % MINUTE).toBe(0);
    }
  });

  it('keeps one interval after now without a slot (runs from before the watcher)', () => {
    expect(nextDriftTime({}, NOW + 7, 60)).toBe(NOW + 7 + MINUTE);
  });
});

describe(driftSlotOf.name, () => {
  it('is stable, in [0, 1), and spreads uids over the interval', () => {
    expect(driftSlotOf('d-abc123')).toBe(driftSlotOf('d-abc123'));
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const slot = driftSlotOf(`d-${i.toString(16).padStart(8, '0')}`);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(slot).toBeLessThan(1);
      buckets[Math.floor(slot * 10)]++;
    }
    // 200 expected per bucket.
    for (const n of buckets) expect(n).toBeGreaterThan(140);
  });
});

describe('health', () => {
  const GRACE = 2 * MINUTE;
  const watched = (over: Partial<DesiredView> = {}) => desired({ healthGraceSeconds: GRACE / 1000, ...over });
  const health = (over: Partial<HealthMemory> = {}): HealthMemory => ({
    generation: 2,
    status: 'progressing',
    reason: 'Deployment/web: 0 of 1 replicas available',
    since: NOW - MINUTE,
    at: NOW,
    ...over,
  });
  const HEALTHY = health({ status: 'healthy', reason: null, since: null });
  const waitHealth = (at: number, nextDriftAt = NOW + MINUTE * 60): Step => ({ kind: 'wait', wake: { kind: 'health', at }, nextDriftAt });
  const hourly = (over: Partial<DesiredView> = {}) => watched({ driftIntervalSeconds: 3600, ...over });

  it.each<[string, Given, Step]>([
    ['assesses a ready deployment not yet assessed (after an apply)', { desired: watched() }, { kind: 'assess-health' }],
    ['assesses again when the applied generation moved', { desired: watched({ generation: 3 }), appliedGeneration: 3, schedule: { health: HEALTHY } }, { kind: 'assess-health' }],
    ['assesses a degraded deployment of a fresh run (settled on ready)', { desired: watched({ status: 'degraded' }) }, { kind: 'assess-health' }],
    ['waits for the drift timer when healthy', { desired: watched(), schedule: { health: HEALTHY } }, waitDrift(NOW + MINUTE)],
    ['keeps a ready deployment ready within the grace, and looks again when it ends', { desired: hourly(), schedule: { health: health() } }, waitHealth(NOW + MINUTE)],
    [
      'degrades a ready deployment unhealthy past the grace',
      { desired: watched(), schedule: { health: health({ status: 'unhealthy', since: NOW - GRACE }) } },
      { kind: 'set-health', phase: 'degraded' },
    ],
    ['degrades one progressing past the grace too', { desired: watched(), schedule: { health: health({ since: NOW - GRACE - 1 }) } }, { kind: 'set-health', phase: 'degraded' }],
    ['degrades at once a fresh run whose row says degraded', { desired: watched({ status: 'degraded' }), schedule: { health: health({ since: NOW }) } }, { kind: 'set-health', phase: 'degraded' }],
    ['keeps a degraded deployment degraded, and looks again a grace later', { phase: 'degraded', desired: hourly({ status: 'degraded' }), schedule: { health: health() } }, waitHealth(NOW + GRACE)],
    ['brings a degraded deployment back to ready once healthy', { phase: 'degraded', desired: watched({ status: 'degraded' }), schedule: { health: HEALTHY } }, { kind: 'set-health', phase: 'ready' }],
    ['brings a fresh run of a degraded row back to ready once healthy', { desired: watched({ status: 'degraded' }), schedule: { health: HEALTHY } }, { kind: 'set-health', phase: 'ready' }],
    ['decides nothing on a failed assessment, and looks again a grace later', { desired: hourly(), schedule: { health: health({ status: 'unknown', since: NOW - GRACE }) } }, waitHealth(NOW + GRACE)],
    ['prefers the drift timer when it comes first', { desired: watched(), schedule: { health: health() } }, waitDrift(NOW + MINUTE)],
    ['leaves health alone when the worker does not assess it', { desired: desired(), schedule: { health: health({ since: NOW - GRACE }) } }, waitDrift(NOW + MINUTE)],
    ['leaves health alone in a replayed history from before it', { desired: watched(), schedule: { healthOff: true } }, waitDrift(NOW + MINUTE)],
    ['leaves health alone while suspended', { phase: 'suspended', desired: watched({ suspended: true }), schedule: { health: health({ since: NOW - GRACE }) } }, waitDrift(NOW + MINUTE)],
    ['leaves health alone after a failed apply', { phase: 'error', desired: watched({ status: 'error' }), schedule: { failedGeneration: 2, recheckSeconds: 30 } }, waitRecheck(NOW + 30_000)],
    ['applies a new generation before anything about health', { phase: 'degraded', desired: watched({ generation: 3, status: 'upgrading' }), schedule: { health: HEALTHY } }, { kind: 'apply' }],
    ['goes round again on a signal before assessing', { desired: watched(), pending: { reconcile: true } }, again],
  ])('%s', (_name, given, step) => {
    expect(nextStep(memory(given), NOW, false)).toEqual(step);
  });

  it('assesses when its timer fires, and goes round again on a signal instead', () => {
    const woken = (signalled: boolean): Given => ({
      stage: 'woken',
      desired: watched(),
      woken: { signalled, wake: { kind: 'health', at: NOW } },
      schedule: { nextDriftAt: NOW + MINUTE, health: health() },
    });
    expect(nextStep(memory(woken(false)), NOW, false)).toEqual({ kind: 'assess-health' });
    expect(nextStep(memory(woken(true)), NOW, false)).toEqual(again);
  });

  describe(observeHealth.name, () => {
    const schedule = (h?: HealthMemory): Schedule => ({ failedGeneration: null, retryAt: null, nextDriftAt: null, recheckSeconds: 900, ...(h ? { health: h } : {}) });
    it('starts a not-healthy streak, keeps its start, and ends it when healthy', () => {
      const sut = schedule();
      observeHealth(sut, 2, { status: 'progressing', reason: 'Pod/web-1: not scheduled' }, NOW);
      expect(sut.health).toEqual({ generation: 2, status: 'progressing', reason: 'Pod/web-1: not scheduled', since: NOW, at: NOW });
      observeHealth(sut, 2, { status: 'unhealthy', reason: 'Pod/web-1: container web is in CrashLoopBackOff' }, NOW + MINUTE);
      expect(sut.health).toMatchObject({ status: 'unhealthy', since: NOW, at: NOW + MINUTE });
      observeHealth(sut, 2, { status: 'healthy', reason: null }, NOW + 2 * MINUTE);
      expect(sut.health).toEqual({ generation: 2, status: 'healthy', reason: null, since: null, at: NOW + 2 * MINUTE });
    });

    it('starts afresh at a new generation', () => {
      const sut = schedule(health({ since: NOW - GRACE }));
      observeHealth(sut, 3, { status: 'progressing', reason: 'x' }, NOW);
      expect(sut.health).toMatchObject({ generation: 3, since: NOW });
    });

    it('remembers a failed assessment as unknown, keeping the streak', () => {
      const sut = schedule(health({ since: NOW - MINUTE }));
      observeHealth(sut, 2, null, NOW);
      expect(sut.health).toEqual({ generation: 2, status: 'unknown', reason: 'Deployment/web: 0 of 1 replicas available', since: NOW - MINUTE, at: NOW });
      observeHealth(sut, 2, { status: 'progressing', reason: 'x' }, NOW + MINUTE);
      expect(sut.health?.since).toBe(NOW - MINUTE);
    });
  });
});

describe(observe.name, () => {
  it.each<[string, number]>([
    ['ready', 2],
    ['degraded', 2],
    ['error', 0],
    ['upgrading', 0],
  ])('trusts Postgres on a fresh run when the status is %s', (status, applied) => {
    const sut = memory({ appliedGeneration: -1 });
    observe(sut, desired({ status, observedGeneration: 2, generation: 3 }));
    expect(sut.view).toMatchObject({ appliedGeneration: applied, desiredGeneration: 3 });
  });

  it('keeps the applied generation of a running workflow', () => {
    const sut = memory({ appliedGeneration: 1 });
    observe(sut, desired({ observedGeneration: 2 }));
    expect(sut.view.appliedGeneration).toBe(1);
  });

  it('drops a delete signal when the row is not deleting, and keeps it when it is', () => {
    const sut = memory({ pending: { delete: true } });
    observe(sut, desired());
    expect(sut.pending.delete).toBe(false);
    const deleting = memory({ pending: { delete: true } });
    observe(deleting, desired({ status: 'deleting', deleting: true }));
    expect(deleting.pending.delete).toBe(true);
  });

  it('takes the re-check interval from the worker, and moves the round to its action', () => {
    const sut = memory({ stage: 'load', tickDesired: desired() });
    const loaded = desired({ failedRecheckSeconds: 30 });
    observe(sut, loaded);
    expect(sut.schedule.recheckSeconds).toBe(30);
    expect(sut.round).toEqual({ stage: 'act', desired: loaded });
  });

  it('remembers a suspension until the next apply, but not a deleting one', () => {
    const sut = memory();
    observe(sut, desired({ suspended: true }));
    expect(sut.schedule.suspended).toBe(true);
    observe(sut, desired());
    expect(sut.schedule.suspended).toBe(true);
    const deleting = memory();
    observe(deleting, desired({ suspended: true, status: 'deleting', deleting: true }));
    expect(deleting.schedule.suspended).toBeUndefined();
  });

  it('changes nothing but the round when the row is gone', () => {
    const sut = memory({ appliedGeneration: -1, pending: { delete: true } });
    observe(sut, null);
    expect(sut.view.appliedGeneration).toBe(-1);
    expect(sut.pending.delete).toBe(true);
    expect(sut.round).toEqual({ stage: 'act', desired: null });
  });
});

describe(describeWait.name, () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  it.each<[Wake, string]>([
    [{ kind: 'retry', at: NOW }, 'retry at 2026-01-01T00:00:00.000Z'],
    [{ kind: 'recheck', at: NOW }, 'a signal (a new generation or a forced reconcile) or the re-check at 2026-01-01T00:00:00.000Z'],
    [{ kind: 'signal' }, 'a signal (a new generation or a forced reconcile)'],
    [{ kind: 'drift', at: NOW }, 'a signal or the drift check at 2026-01-01T00:00:00.000Z'],
    [{ kind: 'health', at: NOW }, 'a signal or the health check at 2026-01-01T00:00:00.000Z'],
  ])('describes %j', (wake, text) => {
    expect(describeWait(wake, iso)).toBe(text);
  });

  it('says a suspended deployment waits for a resume', () => {
    expect(describeWait({ kind: 'drift', at: NOW }, iso, true)).toBe('a resume (suspended: changes wait, drift is recorded but not corrected; drift check at 2026-01-01T00:00:00.000Z)');
  });
});

describe(retryDelayMs.name, () => {
  it.each([
    [0, 15_000],
    [1, 15_000],
    [2, 30_000],
    [3, 60_000],
    [6, 480_000],
    [7, 600_000],
    [20, 600_000],
  ])('waits after failure %i for %i ms', (failures, ms) => {
    expect(retryDelayMs(failures)).toBe(ms);
  });
});
