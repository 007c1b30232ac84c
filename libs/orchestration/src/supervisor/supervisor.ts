import { Client } from '@temporalio/client';
import { DeploymentWorkflowPort } from '../../../domain/src';
import { DeploymentsRepository, SupervisorSweepsRepository } from '../../../persistence/src';
import { WORKFLOW_TYPE, workflowIdFor } from '../contract';

export interface SupervisorLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface SupervisorOptions {
  taskQueue: string;
  /** A request unanswered for this long is signalled again, whatever the state of its workflow. */
  stuckAfterSeconds: number;
  /** One sweep per this many seconds, whatever the number of workers asking. */
  intervalSeconds: number;
  /** Who sweeps (recorded with the sweep), e.g. the worker's identity. */
  identity: string;
}

export interface SweepResult {
  /** False when the sweep was not due (another worker swept within the interval) or another worker is sweeping. */
  swept: boolean;
  /** The sweep's number for the task queue, when this worker claimed it. */
  sweep?: number;
  unfinished: number;
  running: number;
  started: number;
  /** Running workflows signalled again because their deployment's request waited too long. */
  resignalled: number;
  failed: number;
}

/** The advisory lock key of the sweep (any constant; "caelus" in ASCII). */
export const SWEEP_LOCK_KEY = 0x6361656c7573n;

type SupervisedRow = Awaited<ReturnType<DeploymentsRepository['listUnfinished']>>[number];

/**
 * Makes sure every deployment that is not deleted has its workflow running, and that no accepted
 * request waits forever. The API commits first and signals second; if it died in between, or
 * Temporal lost a workflow, this restarts it. A signal lost on its way to a running workflow
 * (one that failed for good waits for a signal) is sent again once the request has waited
 * `stuckAfterSeconds`.
 *
 * Every worker runs a supervisor and asks often; Postgres lets exactly one of them sweep per
 * interval (an atomic claim on the last sweep's time), and an advisory lock keeps a sweep that
 * outlasts its interval from overlapping the next.
 */
export class DeploymentSupervisor {
  constructor(
    private readonly deployments: DeploymentsRepository,
    private readonly client: Client,
    private readonly workflows: DeploymentWorkflowPort,
    private readonly options: SupervisorOptions,
    private readonly logger: SupervisorLogger,
    private readonly sweeps: Pick<SupervisorSweepsRepository, 'claim'>,
  ) {}

  /** Sweeps when it is this worker's turn; a cheap no-op otherwise, so workers may ask every few seconds. */
  async sweep(): Promise<SweepResult> {
    const notSwept = { swept: false, unfinished: 0, running: 0, started: 0, resignalled: 0, failed: 0 };
    const sweep = await this.sweeps.claim(this.options.taskQueue, this.options.intervalSeconds, this.options.identity);
    if (sweep === undefined) return notSwept;
    const res = await this.deployments.withAdvisoryLock(SWEEP_LOCK_KEY, () => this.sweepLocked(sweep));
    return res.locked ? res.result : notSwept;
  }

  private async sweepLocked(sweep: number): Promise<SweepResult> {
    const unfinished = await this.deployments.listUnfinished();
    const stuck = await this.deployments.listStuck(this.options.stuckAfterSeconds);
    const running = new Set<string>();
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.options.taskQueue.replace(/'/g, '')}'`;
    for await (const wf of this.client.workflow.list({ query })) running.add(wf.workflowId);

    const missing = unfinished.filter((d) => !running.has(workflowIdFor(d.deploymentUid)));
    const waiting = stuck.filter((d) => running.has(workflowIdFor(d.deploymentUid)));
    const started = await this.wakeAll(missing, 'supervisor could not start the workflow');
    const resignalled = await this.wakeAll(waiting, 'supervisor could not signal the workflow again');
    const result = { swept: true, sweep, unfinished: unfinished.length, running: running.size, started: started.done, resignalled: resignalled.done, failed: started.failed + resignalled.failed };
    if (result.started || result.resignalled || result.failed) {
      this.logger.info({ ...result, stuck: waiting.slice(0, 20).map((d) => d.deploymentUid) }, 'supervisor sweep');
    }
    return result;
  }

  /** signalWithStart: starts the workflow if it is gone, signals it if it runs. */
  private async wakeAll(rows: SupervisedRow[], failure: string): Promise<{ done: number; failed: number }> {
    let done = 0;
    let failed = 0;
    for (const d of rows) {
      try {
        await this.workflows.wake(d, d.status === 'deleting' ? { name: 'delete', generation: d.generation } : { name: 'reconcile', generation: d.generation });
        done += 1;
      } catch (err) {
        failed += 1;
        this.logger.warn({ deploymentUid: d.deploymentUid, err: (err as Error).message }, failure);
      }
    }
    return { done, failed };
  }
}
