/**
 * One workflow per fleet rollout (`rollout-<id>`). It keeps ids and counters only: the members and
 * their states are rows, read and written by activities page by page, so its history does not grow
 * with the fleet, and continue-as-new keeps it bounded across long waves.
 *
 *   select once ─► for each wave: [pause timer, approval] ─► begin ─► upgrade pending members page
 *   by page ─► check health every few seconds until nobody is upgrading ─► halt if failures exceed
 *   maxFailures ─► next wave ─► succeeded
 *
 * pause / resume / abort arrive as signals (from the API or raw from Temporal), checked like the
 * deployment's. Pause takes effect at the next checkpoint (between pages and waves; members already
 * upgrading are still watched); abort stops at once and leaves pending members untouched.
 */
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { BOOKKEEPING } from './task-priority';
import type { RolloutActivities } from '../activities';
import { SEARCH_ATTRIBUTES } from '../contract';
import { abortRolloutSignal, pauseRolloutSignal, resumeRolloutSignal, RolloutPhase, RolloutWorkflowInput, RolloutWorkflowState, rolloutStateQuery } from '../rollout-contract';
import { checkRolloutSignal } from '../rollout-signal-validation';

export const ROLLOUT_MAX_HISTORY_EVENTS = 2000;
export const ROLLOUT_POLL_SECONDS = 5;
/** Members sent through the upgrade path per activity call. */
export const ROLLOUT_UPGRADE_PAGE = 50;
/** Control signals waiting to be recorded; a flood beyond this is dropped (the flags stay right). */
const MAX_QUEUED_CONTROLS = 20;

// Postgres steps, each bounded to a page: retried until the database is back. A short timeout, so
// the step a killed worker was running is retried by another one within seconds.
const DB: ActivityOptions = { startToCloseTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' }, priority: BOOKKEEPING };
const acts = proxyActivities<RolloutActivities>(DB);

type Control = { kind: 'pause' | 'resume' | 'abort'; by: string } | { kind: 'rejected'; signal: string; reason: string };

class Aborted extends Error {
  constructor(readonly by: string) {
    super('aborted');
  }
}

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<void> {
  const run = new RolloutRun(input);
  run.listen();
  await run.run();
}

class RolloutRun {
  private paused: boolean;
  private abortedBy: string | null = null;
  private readonly controls: Control[] = [];
  private wave: number;
  private waveStarted: boolean;
  private waves = 0;
  private phase: RolloutPhase | null = null;
  private waitingFor: string | null = null;
  private readonly rolloutId: string;

  constructor(private readonly input: RolloutWorkflowInput) {
    this.rolloutId = input.rolloutId;
    this.paused = input.paused ?? false;
    this.wave = input.wave ?? 0;
    this.waveStarted = input.waveStarted ?? false;
  }

  listen(): void {
    const on = (kind: 'pause' | 'resume' | 'abort') => (raw?: unknown) => {
      const checked = checkRolloutSignal(raw);
      if (!checked.ok) return this.queue({ kind: 'rejected', signal: kind, reason: checked.reason });
      if (kind === 'abort') this.abortedBy ??= checked.requestedBy;
      else this.paused = kind === 'pause';
      this.queue({ kind, by: checked.requestedBy });
    };
    setHandler(pauseRolloutSignal, on('pause'));
    setHandler(resumeRolloutSignal, on('resume'));
    setHandler(abortRolloutSignal, on('abort'));
    setHandler(rolloutStateQuery, (): RolloutWorkflowState => ({
      rolloutId: this.rolloutId,
      phase: this.phase ?? 'running',
      wave: this.waveStarted ? this.wave + 1 : this.wave,
      waves: this.waves,
      waitingFor: this.waitingFor,
      historyLength: workflowInfo().historyLength,
    }));
  }

  private queue(c: Control): void {
    if (this.controls.length < MAX_QUEUED_CONTROLS) this.controls.push(c);
  }

  async run(): Promise<void> {
    const plan = await acts.loadRollout({ rolloutId: this.rolloutId });
    if (plan.status !== 'running' && plan.status !== 'paused') return this.setPhase(plan.status);
    this.setPhase(this.paused ? 'paused' : 'running');
    const { waves } = await acts.selectRolloutMembers({ rolloutId: this.rolloutId });
    this.waves = waves;
    try {
      for (; this.wave < waves; this.wave++) {
        if (!this.waveStarted) {
          if (this.wave > 0) await this.gate(plan);
          await this.checkpoint();
          await acts.beginRolloutWave({ rolloutId: this.rolloutId, wave: this.wave });
          this.waveStarted = true;
        }
        await this.upgradeWave();
        const halted = await this.watchWave();
        if (halted) return await this.finish('failed', 'workflow', halted);
        this.waveStarted = false;
      }
      await this.finish('succeeded', 'workflow', null);
    } catch (err) {
      if (err instanceof Aborted) return this.finish('aborted', err.by, `aborted by ${err.by}`);
      throw err;
    }
  }

  /** Between waves: the configured pause, then, with manual approval, a wait for resume. */
  private async gate(plan: { approval: 'auto' | 'manual'; pauseBetweenWavesSeconds: number }): Promise<void> {
    if (plan.pauseBetweenWavesSeconds > 0) {
      this.waitingFor = `the pause before wave ${this.wave + 1}`;
      setCurrentDetails(`waiting ${plan.pauseBetweenWavesSeconds}s before wave ${this.wave + 1}`);
      const until = Date.now() + plan.pauseBetweenWavesSeconds * 1000;
      while (Date.now() < until) {
        await condition(() => this.abortedBy !== null || this.controls.length > 0, Math.max(until - Date.now(), 1));
        await this.flush();
        if (this.abortedBy) throw new Aborted(this.abortedBy);
      }
    }
    if (plan.approval === 'manual' && !this.paused) {
      this.paused = true;
      await acts.setRolloutStatus({ rolloutId: this.rolloutId, status: 'paused', from: ['running'], actor: 'workflow', reason: `waiting for approval (resume) to start wave ${this.wave + 1}` });
    }
  }

  /** Records queued control signals, stops on abort, and waits while paused. */
  private async checkpoint(): Promise<void> {
    for (;;) {
      await this.flush();
      if (this.abortedBy) throw new Aborted(this.abortedBy);
      if (!this.paused) {
        this.setPhase('running');
        return;
      }
      this.setPhase('paused');
      this.waitingFor = 'a resume or abort signal';
      setCurrentDetails(`paused before ${this.waveStarted ? 'more of' : ''} wave ${this.wave + 1}; waiting for resume or abort`);
      await condition(() => this.controls.length > 0 || !this.paused || this.abortedBy !== null);
      this.waitingFor = null;
    }
  }

  /** Writes the status and the event of each control signal (abort is written when the run ends). */
  private async flush(): Promise<void> {
    while (this.controls.length) {
      const c = this.controls.shift()!;
      if (c.kind === 'rejected') {
        await acts.recordRolloutEvent({ rolloutId: this.rolloutId, type: 'signal-rejected', actor: 'temporal-signal', message: `${c.signal} signal rejected: ${c.reason}` });
      } else if (c.kind === 'pause') {
        await acts.setRolloutStatus({ rolloutId: this.rolloutId, status: 'paused', from: ['running'], actor: c.by, reason: `paused by ${c.by}` });
      } else if (c.kind === 'resume') {
        await acts.setRolloutStatus({ rolloutId: this.rolloutId, status: 'running', from: ['paused'], actor: c.by, reason: null });
      }
    }
  }

  private async upgradeWave(): Promise<void> {
    for (;;) {
      await this.checkpoint();
      setCurrentDetails(`wave ${this.wave + 1} of ${this.waves}: upgrading`);
      const res = await acts.upgradeRolloutMembers({ rolloutId: this.rolloutId, wave: this.wave, limit: ROLLOUT_UPGRADE_PAGE });
      if (!res.more) return;
      await this.maybeContinueAsNew();
    }
  }

  /** Checks the wave until nobody in it is upgrading; returns why the rollout halts, or null. */
  private async watchWave(): Promise<string | null> {
    const poll = (this.input.pollSeconds ?? ROLLOUT_POLL_SECONDS) * 1000;
    for (;;) {
      const p = await acts.checkRolloutWave({ rolloutId: this.rolloutId, wave: this.wave });
      setCurrentDetails(`wave ${this.wave + 1} of ${this.waves}: ${p.counts.upgraded} upgraded, ${p.counts.upgrading} upgrading, ${p.counts.failed} failed, ${p.counts.skipped} skipped`);
      if (p.counts.upgrading === 0) return p.halted ? `${p.failedTotal} deployment(s) failed, more than maxFailures allows` : null;
      this.waitingFor = `the health of wave ${this.wave + 1}`;
      await condition(() => this.abortedBy !== null || this.controls.length > 0, poll);
      this.waitingFor = null;
      await this.flush();
      if (this.abortedBy) throw new Aborted(this.abortedBy);
      await this.maybeContinueAsNew();
    }
  }

  private async finish(status: 'succeeded' | 'failed' | 'aborted', actor: string, reason: string | null): Promise<void> {
    await this.flush();
    await acts.setRolloutStatus({ rolloutId: this.rolloutId, status, from: ['running', 'paused'], actor, reason });
    this.setPhase(status);
    setCurrentDetails(`rollout ${status}${reason ? `: ${reason}` : ''}`);
  }

  private setPhase(phase: RolloutPhase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: phase }]);
  }

  private async maybeContinueAsNew(): Promise<void> {
    const info = workflowInfo();
    if (!info.continueAsNewSuggested && info.historyLength <= (this.input.maxHistoryEvents ?? ROLLOUT_MAX_HISTORY_EVENTS)) return;
    await this.flush();
    if (this.abortedBy) throw new Aborted(this.abortedBy);
    await condition(allHandlersFinished);
    await continueAsNew<typeof rolloutWorkflow>({
      rolloutId: this.rolloutId,
      wave: this.wave,
      waveStarted: this.waveStarted,
      paused: this.paused,
      ...(this.input.maxHistoryEvents ? { maxHistoryEvents: this.input.maxHistoryEvents } : {}),
      ...(this.input.pollSeconds ? { pollSeconds: this.input.pollSeconds } : {}),
    });
  }
}
