import { RolloutsService } from '../../../domain/src';
import type { RolloutStatus } from '../../../persistence/src';
import { classified } from './activity-errors';

export interface RolloutActivityDeps {
  rollouts: RolloutsService;
}

/** The rollout workflow's activities: ids and counters in, ids and counters out; each step idempotent under retries. */
export function createRolloutActivities({ rollouts }: RolloutActivityDeps) {
  return {
    /** The plan and where the rollout stands (a run that starts after continue-as-new or a restart reads it). */
    async loadRollout(input: { rolloutId: string }) {
      return classified('load rollout', () => rollouts.plan(input.rolloutId));
    },

    /** Selects the members once; a retry finds the selection made. */
    async selectRolloutMembers(input: { rolloutId: string }): Promise<{ total: number; waves: number }> {
      return classified('select rollout members', () => rollouts.select(input.rolloutId));
    },

    async beginRolloutWave(input: { rolloutId: string; wave: number }): Promise<void> {
      return classified('begin rollout wave', () => rollouts.beginWave(input.rolloutId, input.wave));
    },

    /** Upgrades the next page of the wave's pending members through the API's upgrade path. */
    async upgradeRolloutMembers(input: { rolloutId: string; wave: number; limit: number }): Promise<{ handled: number; more: boolean }> {
      return classified('upgrade rollout members', () => rollouts.upgradeNext(input.rolloutId, input.wave, input.limit));
    },

    /** Judges the wave's upgrading members: upgraded, failed, skipped, or still upgrading. */
    async checkRolloutWave(input: { rolloutId: string; wave: number }) {
      return classified('check rollout wave', () => rollouts.checkWave(input.rolloutId, input.wave));
    },

    /** Records a status the workflow reached, when the rollout is in one of `from`; false when it was not. */
    async setRolloutStatus(input: { rolloutId: string; status: RolloutStatus; from: RolloutStatus[]; actor: string; reason: string | null }): Promise<boolean> {
      return classified('set rollout status', () => rollouts.setStatus(input.rolloutId, input.status, input.actor, input.reason, input.from));
    },

    async recordRolloutEvent(input: { rolloutId: string; type: string; actor: string; message: string }): Promise<void> {
      return classified('record rollout event', () => rollouts.recordEvent(input.rolloutId, input.type, input.actor, input.message));
    },
  };
}

export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
