/**
 * The fleet rollout's contract between the API, the worker and its workflow: workflow id, input,
 * signals and query. Workflow code may import this file. The rollout reuses the deployment's
 * search attributes (CaelusProduct, CaelusTemplateVersion: the target, CaelusPhase: the rollout's
 * status), so no new attribute has to be registered with Temporal; `WorkflowType` tells them apart.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const ROLLOUT_WORKFLOW_TYPE = 'rolloutWorkflow';
export const ROLLOUT_WORKFLOW_ID_PREFIX = 'rollout-';

export function rolloutWorkflowIdFor(rolloutId: string): string {
  return `${ROLLOUT_WORKFLOW_ID_PREFIX}${rolloutId}`;
}

/** Ids and counters only; the members are rows in Postgres. */
export interface RolloutWorkflowInput {
  rolloutId: string;
  /** Carried across continue-as-new: the wave in progress and whether it has begun. */
  wave?: number;
  waveStarted?: boolean;
  paused?: boolean;
  /** Continue-as-new once the history is this long (default 2,000; lowered in tests). */
  maxHistoryEvents?: number;
  /** Seconds between health checks of a wave (default 5). */
  pollSeconds?: number;
}

/** Admins may send these straight from the Temporal CLI: no payload, or `{"requestedBy": "<name>"}`. */
export interface RolloutControlSignal {
  requestedBy?: string;
}

export const ROLLOUT_PHASES = ['running', 'paused', 'succeeded', 'failed', 'aborted'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export interface RolloutWorkflowState {
  rolloutId: string;
  phase: RolloutPhase;
  /** 1-based; 0 before the first wave. */
  wave: number;
  waves: number;
  waitingFor: string | null;
  historyLength: number;
}

export const pauseRolloutSignal = defineSignal<[RolloutControlSignal?]>('pause');
export const resumeRolloutSignal = defineSignal<[RolloutControlSignal?]>('resume');
export const abortRolloutSignal = defineSignal<[RolloutControlSignal?]>('abort');
export const rolloutStateQuery = defineQuery<RolloutWorkflowState>('rolloutState');
