import { Client } from '@temporalio/client';
import { RolloutSignal, RolloutWorkflowPort, WorkflowRef } from '../../../domain/src';
import { SEARCH_ATTRIBUTES } from '../contract';
import { RolloutControlSignal, RolloutWorkflowInput, ROLLOUT_WORKFLOW_TYPE, rolloutWorkflowIdFor } from '../rollout-contract';
import { TemporalWorkflowsOptions } from './temporal-deployment-workflows';

/** RolloutWorkflowPort on Temporal: one workflow per rollout, started once, signalled by name. */
export class TemporalRolloutWorkflows implements RolloutWorkflowPort {
  constructor(
    private readonly client: Client,
    private readonly options: TemporalWorkflowsOptions,
  ) {}

  async start(rollout: { id: string; productName: string; toVersion: string }): Promise<void> {
    const input: RolloutWorkflowInput = { rolloutId: rollout.id };
    await this.client.connection.withDeadline(Date.now() + this.options.signalTimeoutMs, () =>
      this.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
        workflowId: rolloutWorkflowIdFor(rollout.id),
        taskQueue: this.options.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.product, value: rollout.productName },
          { key: SEARCH_ATTRIBUTES.templateVersion, value: rollout.toVersion },
          { key: SEARCH_ATTRIBUTES.phase, value: 'running' },
        ],
        staticSummary: `Caelus rollout of ${rollout.productName} to ${rollout.toVersion}`,
      }),
    );
  }

  async signal(rolloutId: string, signal: RolloutSignal, requestedBy: string): Promise<void> {
    const payload: RolloutControlSignal = { requestedBy };
    await this.client.connection.withDeadline(Date.now() + this.options.signalTimeoutMs, () => this.client.workflow.getHandle(rolloutWorkflowIdFor(rolloutId)).signal(signal, payload));
  }

  describe(rolloutId: string): WorkflowRef {
    const id = rolloutWorkflowIdFor(rolloutId);
    return { id, uiUrl: `${this.options.uiUrl}/namespaces/${encodeURIComponent(this.options.namespace)}/workflows/${encodeURIComponent(id)}` };
  }
}
