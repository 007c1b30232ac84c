/**
 * Where the time of one deployment went, from the POST to `ready`, put together from the client's
 * clock and the workflow history's event times (same machine, same clock).
 */
import type { Client } from '@temporalio/client';
import type { Deployment, ReadyInfo } from './context';
import { fetchParsedHistory, ParsedHistory, workflowIdFor } from './temporal';
import { mapLimit, mean, round } from './util';

export interface Breakdown {
  /** Workflow tasks and activities that waited more than 5 s in Temporal's queues. */
  slow_queue_steps: number;
  total_ms: number;
  /** POST round trip: validation, the DB transaction, signalWithStart. */
  api_post_ms: number;
  /** Client's POST start to WorkflowExecutionStarted. */
  to_workflow_start_ms: number;
  /** Schedule-to-start of workflow tasks: waiting in Temporal's task queue for the worker. */
  workflow_task_queue_ms: number;
  /** Start-to-close of workflow tasks: the worker running workflow code. */
  workflow_task_run_ms: number;
  /** Schedule-to-start of activities: waiting for a free activity slot on the worker. */
  activity_queue_ms: number;
  /** Start-to-close per activity type (applyRelease is helm). */
  activity_run_ms: Record<string, number>;
  /** Between steps: Temporal persisting a completion and scheduling the next task. */
  temporal_between_steps_ms: number;
  /** recordApplied's completion to the bench seeing `ready` (poll period). */
  after_record_ms: number;
}

export function breakdown(d: Deployment, ready: ReadyInfo, h: ParsedHistory): Breakdown | undefined {
  const record = h.steps.find((s) => s.kind === 'activity' && s.name === 'recordApplied' && s.completedAt !== undefined && !s.failed);
  if (!record || !Number.isFinite(h.workflowStartedAt)) return undefined;
  const end = record.completedAt!;
  const steps = h.steps.filter((s) => s.kind !== 'timer' && s.scheduledAt >= h.workflowStartedAt && s.completedAt !== undefined && s.completedAt <= end);
  const queue = (kind: string) => steps.filter((s) => s.kind === kind).reduce((a, s) => a + ((s.startedAt ?? s.scheduledAt) - s.scheduledAt), 0);
  const runOf = (kind: string) => steps.filter((s) => s.kind === kind).reduce((a, s) => a + (s.completedAt! - (s.startedAt ?? s.scheduledAt)), 0);
  const activityRun: Record<string, number> = {};
  for (const s of steps.filter((x) => x.kind === 'activity')) activityRun[s.name] = (activityRun[s.name] ?? 0) + (s.completedAt! - (s.startedAt ?? s.scheduledAt));
  // The loop's steps run one after another, so what the steps do not cover is time between them.
  const covered = steps.reduce((a, s) => a + (s.completedAt! - s.scheduledAt), 0);
  return {
    slow_queue_steps: steps.filter((s) => (s.startedAt ?? s.scheduledAt) - s.scheduledAt > 5_000).length,
    total_ms: ready.observedAt - d.postStartedAt,
    api_post_ms: d.postEndedAt - d.postStartedAt,
    to_workflow_start_ms: h.workflowStartedAt - d.postStartedAt,
    workflow_task_queue_ms: queue('workflow-task'),
    workflow_task_run_ms: runOf('workflow-task'),
    activity_queue_ms: queue('activity'),
    activity_run_ms: activityRun,
    temporal_between_steps_ms: end - h.workflowStartedAt - covered,
    after_record_ms: ready.observedAt - end,
  };
}

export async function breakdowns(client: Client, items: { d: Deployment; ready: ReadyInfo }[]): Promise<(Breakdown | undefined)[]> {
  return mapLimit(items, 8, async ({ d, ready }) => breakdown(d, ready, await fetchParsedHistory(client, workflowIdFor(d.deploymentUid))));
}

/** Field-wise mean of breakdowns, rounded to ms. */
export function meanBreakdown(list: (Breakdown | undefined)[]): Breakdown | undefined {
  const xs = list.filter((b): b is Breakdown => b !== undefined);
  if (!xs.length) return undefined;
  const m = (f: (b: Breakdown) => number) => round(mean(xs.map(f)), 0);
  const names = [...new Set(xs.flatMap((b) => Object.keys(b.activity_run_ms)))];
  return {
    slow_queue_steps: round(mean(xs.map((b) => b.slow_queue_steps)), 2),
    total_ms: m((b) => b.total_ms),
    api_post_ms: m((b) => b.api_post_ms),
    to_workflow_start_ms: m((b) => b.to_workflow_start_ms),
    workflow_task_queue_ms: m((b) => b.workflow_task_queue_ms),
    workflow_task_run_ms: m((b) => b.workflow_task_run_ms),
    activity_queue_ms: m((b) => b.activity_queue_ms),
    activity_run_ms: Object.fromEntries(names.map((n) => [n, m((b) => b.activity_run_ms[n] ?? 0)])),
    temporal_between_steps_ms: m((b) => b.temporal_between_steps_ms),
    after_record_ms: m((b) => b.after_record_ms),
  };
}

export function roundBreakdown(b: Breakdown | undefined): Breakdown | undefined {
  return b ? meanBreakdown([b]) : undefined;
}

/** Steps, over all deployments, that waited more than 5 s in Temporal's queues. */
export function countSlowSteps(list: (Breakdown | undefined)[]): number {
  return list.reduce((a, b) => a + (b?.slow_queue_steps ?? 0), 0);
}
