import { Client } from '@temporalio/client';
import { DeploymentSignal, DeploymentWorkflowPort, WorkflowRef } from '../../../domain/src';
import { DeploymentWorkflowInput, INITIAL_PHASE, SEARCH_ATTRIBUTES, WORKFLOW_TYPE, workflowIdFor } from '../contract';

export interface TemporalWorkflowsOptions {
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  signalTimeoutMs: number;
}

/** DeploymentWorkflowPort on Temporal: every wake is a signalWithStart, so a missing workflow is started. */
export class TemporalDeploymentWorkflows implements DeploymentWorkflowPort {
  constructor(
    private readonly client: Client,
    private readonly options: TemporalWorkflowsOptions,
  ) {}

  async wake(d: { id: string; deploymentUid: string; userId: string }, signal: DeploymentSignal): Promise<void> {
    const input: DeploymentWorkflowInput = { deploymentId: d.id, deploymentUid: d.deploymentUid };
    const { name, ...payload } = signal;
    // Bounded: an unreachable Temporal must not hold the HTTP request; the supervisor catches up.
    await this.client.connection.withDeadline(Date.now() + this.options.signalTimeoutMs, () =>
      this.client.workflow.signalWithStart(WORKFLOW_TYPE, {
        workflowId: workflowIdFor(d.deploymentUid),
        taskQueue: this.options.taskQueue,
        args: [input],
        signal: name,
        signalArgs: [payload],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.deploymentId, value: d.id },
          { key: SEARCH_ATTRIBUTES.userId, value: d.userId },
          { key: SEARCH_ATTRIBUTES.phase, value: INITIAL_PHASE },
        ],
        staticSummary: `Caelus deployment ${d.deploymentUid}`,
      }),
    );
  }

  describe(deploymentUid: string): WorkflowRef {
    const id = workflowIdFor(deploymentUid);
    return { id, uiUrl: `${this.options.uiUrl}/namespaces/${encodeURIComponent(this.options.namespace)}/workflows/${encodeURIComponent(id)}` };
  }
}
