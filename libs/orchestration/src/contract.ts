/**
 * The one contract shared by the API, the worker and the workflow: task queue, workflow ids,
 * signals, the query and search-attribute keys. Workflow code may import this file.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const DEFAULT_TASK_QUEUE = 'caelus-deployments';
export const WORKFLOW_TYPE = 'deploymentWorkflow';
export const WORKFLOW_ID_PREFIX = 'deployment-';

export function workflowIdFor(deploymentUid: string): string {
  return `${WORKFLOW_ID_PREFIX}${deploymentUid}`;
}

/** Workflow input: ids and counters only, so no user value or secret reaches the history. */
export interface DeploymentWorkflowInput {
  deploymentId: string;
  deploymentUid: string;
  /** Carried across continue-as-new. */
  appliedGeneration?: number;
  consecutiveFailures?: number;
  pendingUpgrades?: QueuedUpgrade[];
  pendingDelete?: boolean;
  /** The run saw its deployment suspended and has not applied since: a resume then applies at once. */
  suspended?: boolean;
  /** Upgrade signals dropped because the queue was full, not yet recorded as an event. */
  droppedUpgrades?: DroppedUpgrades;
  /** Continue-as-new once the history is this long (default 1,500; lowered in tests). */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new, so the state query still says when the last drift check ran. */
  lastDriftCheck?: LastDriftCheck;
  /** A drift signal not acted on yet when the run continued as new. */
  pendingDrift?: DriftSignalReason;
}

export interface ReconcileSignal {
  generation?: number;
  /** Retry even a generation whose last attempt failed for good (an operator's "try again"). */
  force?: boolean;
}
/** Admins may send this straight from the Temporal CLI or Web UI: `{"templateId": "<uuid>"}`. */
export interface UpgradeSignal {
  templateId: string;
  requestedBy?: string;
}
/** An upgrade signal as the workflow queues it: checked, or replaced by the reason it was rejected. */
export interface QueuedUpgrade extends UpgradeSignal {
  rejected?: string;
}
/** What a full queue dropped: how many, and a few of the template ids (bounded, never the payloads). */
export interface DroppedUpgrades {
  count: number;
  templateIds: string[];
}
export interface DeleteSignal {
  generation?: number;
}
/**
 * Sent by the cluster watcher when one of the deployment's objects changed, disappeared or
 * appeared (`changed`), or when it listed afresh and cannot tell what changed (`resync`). Anyone
 * may send it: it only asks for one drift check.
 */
export interface DriftSignal {
  reason?: DriftSignalReason;
}
export const DRIFT_SIGNAL_REASONS = ['changed', 'resync'] as const;
export type DriftSignalReason = (typeof DRIFT_SIGNAL_REASONS)[number];
/** Why a drift check ran: the cluster watcher's signal, or the periodic safety-net timer. */
export type DriftCheckTrigger = 'watcher' | 'safety-net';
export interface LastDriftCheck {
  /** Workflow time (ISO 8601) the check started. */
  at: string;
  trigger: DriftCheckTrigger;
}

/**
 * Every phase the workflow shows, in its state query and in the CaelusPhase search attribute.
 * The client starts a workflow in INITIAL_PHASE, the phase the workflow itself starts in, so that
 * visibility never shows a value the workflow does not know. `suspended`: an operator suspended the
 * deployment; nothing is applied or corrected until it is resumed. `degraded`: applied, but its
 * workloads stayed unhealthy longer than the grace (CAELUS_HEALTH_GRACE); ready again once healthy.
 */
export const WORKFLOW_PHASES = ['loading', 'provisioning', 'upgrading', 'ready', 'degraded', 'error', 'suspended', 'deleting', 'deleted'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];
export const INITIAL_PHASE: WorkflowPhase = 'loading';

/** What the `state` query returns (ids, counters and phase; nothing secret). */
export interface DeploymentWorkflowState {
  deploymentId: string;
  deploymentUid: string;
  phase: WorkflowPhase;
  appliedGeneration: number;
  desiredGeneration: number;
  templateVersion: string | null;
  consecutiveFailures: number;
  lastError: string | null;
  waitingFor: string | null;
  nextDriftCheckAt: string | null;
  /** When the last drift check of this run (or the one it continued) started, and why; null before the first. */
  lastDriftCheck?: LastDriftCheck | null;
  pendingUpgrades: number;
  historyLength: number;
}

export const reconcileSignal = defineSignal<[ReconcileSignal?]>('reconcile');
export const upgradeSignal = defineSignal<[UpgradeSignal]>('upgrade');
export const deleteSignal = defineSignal<[DeleteSignal?]>('delete');
export const driftSignal = defineSignal<[DriftSignal?]>('drift');
export const stateQuery = defineQuery<DeploymentWorkflowState>('state');

export const SEARCH_ATTRIBUTES = {
  deploymentId: defineSearchAttributeKey('CaelusDeploymentId', SearchAttributeType.KEYWORD),
  userId: defineSearchAttributeKey('CaelusUserId', SearchAttributeType.KEYWORD),
  product: defineSearchAttributeKey('CaelusProduct', SearchAttributeType.KEYWORD),
  templateVersion: defineSearchAttributeKey('CaelusTemplateVersion', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('CaelusPhase', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.values(SEARCH_ATTRIBUTES).map((k) => k.name);

/** The singleton cluster watcher: one per task queue (one Caelus installation), whatever the number of workers. */
export const WATCHER_WORKFLOW_TYPE = 'clusterWatcherWorkflow';
export function watcherWorkflowIdFor(taskQueue: string): string {
  return `cluster-watcher-${taskQueue}`;
}

/** Where the watcher's watches resume: per watched kind and selector, the resourceVersion up to which every change was signalled. */
export interface WatchCheckpoint {
  resourceVersions: Record<string, string>;
}
export interface ClusterWatcherInput {
  checkpoint?: WatchCheckpoint;
}
