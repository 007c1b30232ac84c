import type { Client } from '@temporalio/client';
import { INITIAL_PHASE, SEARCH_ATTRIBUTES, WORKFLOW_PHASES } from '../contract';
import { TemporalDeploymentWorkflows } from './temporal-deployment-workflows';

describe(TemporalDeploymentWorkflows.name, () => {
  const options = { namespace: 'default', taskQueue: 'caelus-deployments', uiUrl: 'http://temporal.example', signalTimeoutMs: 1000 };

  function fakeClient() {
    const calls: { type: string; options: Record<string, unknown> }[] = [];
    const client = {
      connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
      workflow: {
        signalWithStart: async (type: string, o: Record<string, unknown>) => {
          calls.push({ type, options: o });
        },
      },
    };
    return { client: client as unknown as Client, calls };
  }

  it('starts a workflow in the phase the workflow itself starts in, one of the phases it shows', async () => {
    const { client, calls } = fakeClient();
    const sut = new TemporalDeploymentWorkflows(client, options);
    await sut.wake({ id: 'd-1', deploymentUid: 'abc', userId: 'u-1' }, { name: 'reconcile', generation: 1 });
    const attributes = calls[0].options.typedSearchAttributes as { key: { name: string }; value: unknown }[];
    const phase = attributes.find((a) => a.key.name === SEARCH_ATTRIBUTES.phase.name)?.value;
    expect(phase).toBe(INITIAL_PHASE);
    expect(WORKFLOW_PHASES).toContain(phase);
    expect(calls[0].options).toMatchObject({ workflowId: 'deployment-abc', signal: 'reconcile', signalArgs: [{ generation: 1 }] });
  });

  it('names no phase the workflow never sets', () => {
    expect(WORKFLOW_PHASES).not.toContain('pending');
    expect(WORKFLOW_PHASES).not.toContain('waiting');
  });

  // Since health assessments (issue 15), the workflow degrades a ready deployment whose workloads stay unhealthy.
  it('names degraded, which the workflow sets on a ready deployment unhealthy past the grace', () => {
    expect(WORKFLOW_PHASES).toContain('degraded');
  });
});
