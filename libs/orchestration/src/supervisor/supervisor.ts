import { Client } from '@temporalio/client';
import { DeploymentWorkflowPort } from '../../../domain/src';
import { DeploymentsRepository } from '../../../persistence/src';
import { WORKFLOW_TYPE, workflowIdFor } from '../contract';

export interface SupervisorLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface SweepResult {
  unfinished: number;
  running: number;
  started: number;
  failed: number;
}

/**
 * Makes sure every deployment that is not deleted has its workflow running. The API commits
 * first and signals second; if it died in between, or Temporal lost a workflow, this restarts it.
 */
export class DeploymentSupervisor {
  constructor(
    private readonly deployments: DeploymentsRepository,
    private readonly client: Client,
    private readonly workflows: DeploymentWorkflowPort,
    private readonly taskQueue: string,
    private readonly logger: SupervisorLogger,
  ) {}

  async sweep(): Promise<SweepResult> {
    const unfinished = await this.deployments.listUnfinished();
    const running = new Set<string>();
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue.replace(/'/g, '')}'`;
    for await (const wf of this.client.workflow.list({ query })) running.add(wf.workflowId);

    let started = 0;
    let failed = 0;
    for (const d of unfinished) {
      if (running.has(workflowIdFor(d.deploymentUid))) continue;
      try {
        await this.workflows.wake(d, d.status === 'deleting' ? { name: 'delete', generation: d.generation } : { name: 'reconcile', generation: d.generation });
        started += 1;
      } catch (err) {
        failed += 1;
        this.logger.warn({ deploymentUid: d.deploymentUid, err: (err as Error).message }, 'supervisor could not start the workflow');
      }
    }
    const result = { unfinished: unfinished.length, running: running.size, started, failed };
    if (started || failed) this.logger.info({ ...result }, 'supervisor sweep');
    return result;
  }
}
