/** Temporal access for the bench: workflow histories turned into step timings, run listings, cleanup. */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { mapLimit } from './util';

/** A history event as the client decodes it; only what the bench reads is typed. */
type Attrs = { scheduledEventId?: unknown; startedEventId?: unknown; activityType?: { name?: string | null } | null } | null | undefined;
interface HistoryEvent {
  eventId?: unknown;
  eventTime?: { seconds?: unknown; nanos?: number | null } | null;
  workflowExecutionStartedEventAttributes?: unknown;
  workflowTaskScheduledEventAttributes?: Attrs;
  workflowTaskStartedEventAttributes?: Attrs;
  workflowTaskCompletedEventAttributes?: Attrs;
  workflowTaskFailedEventAttributes?: Attrs;
  workflowTaskTimedOutEventAttributes?: Attrs;
  activityTaskScheduledEventAttributes?: Attrs;
  activityTaskStartedEventAttributes?: Attrs;
  activityTaskCompletedEventAttributes?: Attrs;
  activityTaskFailedEventAttributes?: Attrs;
  activityTaskTimedOutEventAttributes?: Attrs;
  timerStartedEventAttributes?: Attrs;
  timerFiredEventAttributes?: Attrs;
  markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null;
}

/**
 * A local activity's marker (written by the SDK core when the workflow task that ran it
 * completes): its type and times are in the `data` detail, JSON.
 */
function localActivityOf(e: HistoryEvent): { name: string } | undefined {
  const m = e.markerRecordedEventAttributes;
  if (!m || m.markerName !== 'core_local_activity') return undefined;
  const raw = m.details?.data?.payloads?.[0]?.data;
  if (!raw) return { name: 'local activity' };
  try {
    const data = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
    return { name: typeof data.activity_type === 'string' ? data.activity_type : 'local activity' };
  } catch {
    return { name: 'local activity' };
  }
}

export const WORKFLOW_TYPE = 'deploymentWorkflow';
export const workflowIdFor = (deploymentUid: string) => `deployment-${deploymentUid}`;

export async function connectTemporal(address: string, namespace: string): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

/** One workflow task or activity of a history, with the times Temporal recorded for it. */
export interface Step {
  /** A local activity's times are the worker's (it ran inside a workflow task). */
  kind: 'workflow-task' | 'activity' | 'local-activity' | 'timer';
  name: string;
  scheduledAt: number;
  startedAt?: number;
  completedAt?: number;
  failed?: boolean;
  /** Event id of the step's completion (or of its scheduling while still pending). */
  lastEventId: number;
}

export interface ParsedHistory {
  workflowStartedAt: number;
  steps: Step[];
  length: number;
}

const idOf = (e: HistoryEvent) => Number(e.eventId);
const timeOf = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/**
 * Steps in the order they were scheduled, told apart by which attributes an event carries.
 * ActivityTaskStarted carries the real start time even though Temporal writes it at completion.
 */
export function parseHistory(events: HistoryEvent[]): ParsedHistory {
  const byScheduled = new Map<number, Step>();
  const steps: Step[] = [];
  let workflowStartedAt = NaN;
  // A local activity runs inside the workflow task that records its marker: its step spans that
  // task, from the task's start (server time) to the marker.
  let taskStartedAt = NaN;
  const schedule = (e: HistoryEvent, kind: Step['kind'], name: string) => {
    const step: Step = { kind, name, scheduledAt: timeOf(e), lastEventId: idOf(e) };
    byScheduled.set(idOf(e), step);
    steps.push(step);
  };
  const finish = (e: HistoryEvent, scheduledEventId: unknown, failed: boolean) => {
    const step = byScheduled.get(Number(scheduledEventId));
    if (!step) return;
    step.completedAt = timeOf(e);
    step.lastEventId = idOf(e);
    step.failed = failed;
  };
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) workflowStartedAt = timeOf(e);
    else if (e.workflowTaskScheduledEventAttributes) schedule(e, 'workflow-task', 'workflow task');
    else if (e.activityTaskScheduledEventAttributes) schedule(e, 'activity', e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    else if (e.timerStartedEventAttributes) schedule(e, 'timer', 'timer');
    else if (e.workflowTaskStartedEventAttributes || e.activityTaskStartedEventAttributes) {
      const step = byScheduled.get(Number((e.workflowTaskStartedEventAttributes ?? e.activityTaskStartedEventAttributes)?.scheduledEventId));
      if (step) step.startedAt = timeOf(e);
      if (e.workflowTaskStartedEventAttributes) taskStartedAt = timeOf(e);
    } else if (e.workflowTaskCompletedEventAttributes) finish(e, e.workflowTaskCompletedEventAttributes.scheduledEventId, false);
    else if (e.activityTaskCompletedEventAttributes) finish(e, e.activityTaskCompletedEventAttributes.scheduledEventId, false);
    else if (e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes) {
      finish(e, (e.workflowTaskFailedEventAttributes ?? e.workflowTaskTimedOutEventAttributes)?.scheduledEventId, true);
    } else if (e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) {
      finish(e, (e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes)?.scheduledEventId, true);
    } else if (e.timerFiredEventAttributes) finish(e, e.timerFiredEventAttributes.startedEventId, false);
    else {
      const la = localActivityOf(e);
      if (la) {
        const at = timeOf(e);
        const from = Number.isNaN(taskStartedAt) ? at : taskStartedAt;
        steps.push({ kind: 'local-activity', name: la.name, scheduledAt: from, startedAt: from, completedAt: at, lastEventId: idOf(e) });
      }
    }
  }
  return { workflowStartedAt, steps, length: events.length };
}

export async function fetchParsedHistory(client: Client, workflowId: string, runId?: string): Promise<ParsedHistory> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return parseHistory((history.events ?? []) as HistoryEvent[]);
}

/** Terminates the workflows (those already closed or missing are fine). */
export async function terminateAll(client: Client, workflowIds: string[], reason: string, concurrency = 32): Promise<number> {
  let terminated = 0;
  await mapLimit(workflowIds, concurrency, async (id) => {
    try {
      await client.workflow.getHandle(id).terminate(reason);
      terminated++;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      if (/already completed|not found|NOT_FOUND/i.test((err as Error).message)) return;
      throw err;
    }
  });
  return terminated;
}

/** Every run (current and continued-as-new) of a workflow id, with its history length. */
export async function listRuns(client: Client, workflowId: string): Promise<{ runId: string; status: string; historyLength: number }[]> {
  const runs: { runId: string; status: string; historyLength: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: wf.runId, status: wf.status.name, historyLength: wf.historyLength });
  }
  return runs;
}
