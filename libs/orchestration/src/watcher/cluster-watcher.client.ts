import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { driftSignal, DriftSignalReason, WATCHER_WORKFLOW_TYPE, watcherWorkflowIdFor, workflowIdFor } from '../contract';

/**
 * Starts the task queue's cluster watcher unless it runs already. Every worker calls this at boot
 * (and now and then after, in case it was terminated), so exactly one watcher runs whatever the
 * number of workers.
 */
export async function ensureClusterWatcher(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.workflow.start(WATCHER_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: watcherWorkflowIdFor(taskQueue),
      args: [{}],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Sends a deployment's workflow the drift signal; false when it has no running workflow. */
export async function signalDrift(client: Client, deploymentUid: string, reason: DriftSignalReason): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowIdFor(deploymentUid)).signal(driftSignal, { reason });
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
