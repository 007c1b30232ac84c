/**
 * The pure rules of a fleet rollout: which waves a plan makes of a selection, which status a
 * control request leads to, and how a member that is being upgraded is judged. No I/O here.
 */
import type { RolloutMemberState, RolloutStatus, WatchedMemberRow, WaveSpec } from '../../../persistence/src';
import { FieldProblem } from '../errors';

export const DEFAULT_WAVES: readonly WaveSpec[] = [1, '10%', '50%', '100%'];
export const MAX_WAVES = 20;
export const MAX_WAVE_COUNT = 100_000;
const PERCENT = /^(100|[1-9][0-9]?)(\.[0-9]{1,2})?%$/;

/** Problems with a requested wave list (empty when it is fine). */
export function waveProblems(waves: unknown): FieldProblem[] {
  if (!Array.isArray(waves) || waves.length === 0 || waves.length > MAX_WAVES) {
    return [{ field: 'waves', message: `must be a list of 1 to ${MAX_WAVES} waves` }];
  }
  const problems: FieldProblem[] = [];
  waves.forEach((w: unknown, i) => {
    const ok = typeof w === 'number' ? Number.isInteger(w) && w >= 1 && w <= MAX_WAVE_COUNT : typeof w === 'string' && PERCENT.test(w) && parseFloat(w) > 0 && parseFloat(w) <= 100;
    if (!ok) problems.push({ field: `waves[${i}]`, message: `must be a count from 1 to ${MAX_WAVE_COUNT} or a percentage such as "10%" (above 0, at most 100)` });
  });
  return problems;
}

/**
 * The cumulative number of members at the end of each wave, for a selection of `total`. Counts
 * are absolute, percentages of the selection (rounded up); a wave never shrinks what came before,
 * a wave that would add nobody is dropped, and the last wave takes whatever is left, so every
 * selected deployment belongs to a wave. An empty selection has no waves.
 */
export function waveEnds(waves: readonly WaveSpec[], total: number): number[] {
  const ends: number[] = [];
  let prev = 0;
  for (const w of waves) {
    const wanted = typeof w === 'number' ? w : Math.ceil((parseFloat(w) * total) / 100 - 1e-9);
    const end = Math.min(total, Math.max(prev, wanted));
    if (end > prev) ends.push(end);
    prev = end;
  }
  if (total > prev) {
    if (ends.length) ends[ends.length - 1] = total;
    else ends.push(total);
  }
  return ends;
}

export type RolloutAction = 'pause' | 'resume' | 'abort';
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = ['pause', 'resume', 'abort'];

/** The status a control request leads to, or why it cannot apply. */
export function controlTransition(status: RolloutStatus, action: RolloutAction): { ok: true; status: RolloutStatus } | { ok: false; reason: string } {
  if (status === 'succeeded' || status === 'failed' || status === 'aborted') return { ok: false, reason: `the rollout has ended (${status})` };
  switch (action) {
    case 'pause':
      return status === 'running' ? { ok: true, status: 'paused' } : { ok: false, reason: 'the rollout is already paused' };
    case 'resume':
      return status === 'paused' ? { ok: true, status: 'running' } : { ok: false, reason: 'the rollout is not paused' };
    case 'abort':
      return { ok: true, status: 'aborted' };
  }
}

/** A member being upgraded next to its deployment's row. */
export type WatchedMember = Omit<WatchedMemberRow, 'deploymentId' | 'health'> & {
  /** The latest health assessment; null (or absent) when health is not assessed. */
  health?: { status: string; generation: number; reason?: string | null } | null;
};

export type MemberVerdict = { state: Extract<RolloutMemberState, 'upgraded' | 'failed' | 'skipped'>; reason: string | null } | { state: 'upgrading' };

/**
 * Where an upgrading member stands: upgraded once it is ready and healthy at the upgrade's
 * generation N (or a later one): `ready`, `generation = observedGeneration >= N`, the target
 * applied, and `health.status = healthy` assessed at that same generation; when health is not
 * assessed (no health, CAELUS_HEALTH_GRACE=0) ready at N is enough. Failed when its apply failed,
 * it went `degraded` at the new generation, or it is not ready and healthy within the timeout.
 * Skipped when it is being deleted or someone moved it to another template meanwhile.
 */
export function judgeMember(m: WatchedMember, toTemplateId: string, healthTimeoutSeconds: number, now: Date): MemberVerdict {
  if (m.status === 'deleting' || m.status === 'deleted') return { state: 'skipped', reason: 'the deployment is being deleted' };
  if (m.desiredTemplateId !== toTemplateId) return { state: 'skipped', reason: 'the deployment was moved to another template during the rollout' };
  const applied = m.observedGeneration >= m.targetGeneration && m.generation === m.observedGeneration && m.appliedTemplateId === toTemplateId;
  if (applied && m.status === 'ready' && healthyAt(m.health, m.observedGeneration)) return { state: 'upgraded', reason: null };
  if (applied && m.status === 'degraded') return { state: 'failed', reason: `degraded after the upgrade: ${truncate(m.health?.reason ?? 'the workloads are not healthy', 500)}` };
  if (m.status === 'error' && m.generation >= m.targetGeneration) return { state: 'failed', reason: `the upgrade failed: ${truncate(m.lastError ?? 'unknown error', 500)}` };
  if (now.getTime() - m.startedAt.getTime() > healthTimeoutSeconds * 1000) {
    const health = m.health ? `, health ${m.health.status} at generation ${m.health.generation}` : '';
    return { state: 'failed', reason: `not ready and healthy within ${healthTimeoutSeconds}s (status ${m.status}${health})` };
  }
  return { state: 'upgrading' };
}

/** Healthy at the generation, or not assessed at all (then ready is all there is to wait for). */
const healthyAt = (health: WatchedMember['health'], generation: number): boolean => !health || (health.status === 'healthy' && health.generation === generation);

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Whether the failures so far halt the rollout. */
export const tooManyFailures = (failed: number, maxFailures: number): boolean => failed > maxFailures;
