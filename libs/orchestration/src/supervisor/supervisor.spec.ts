import { DeploymentSupervisor } from './supervisor';

describe(DeploymentSupervisor.name, () => {
  const rows = [
    { id: '1', deploymentUid: 'a', userId: 'u', status: 'ready', generation: 3 },
    { id: '2', deploymentUid: 'b', userId: 'u', status: 'deleting', generation: 5 },
    { id: '3', deploymentUid: 'c', userId: 'u', status: 'provisioning', generation: 1 },
  ];

  function build(running: string[], failOn?: string) {
    const woken: { uid: string; signal: string }[] = [];
    const sut = new DeploymentSupervisor(
      { listUnfinished: async () => rows } as never,
      { workflow: { list: async function* () { for (const workflowId of running) yield { workflowId }; } } } as never,
      {
        wake: async (d: { deploymentUid: string }, s: { name: string }) => {
          if (d.deploymentUid === failOn) throw new Error('temporal down');
          woken.push({ uid: d.deploymentUid, signal: s.name });
        },
        describe: () => ({ id: '', uiUrl: '' }),
      },
      'queue',
      { info: () => undefined, warn: () => undefined },
    );
    return { sut, woken };
  }

  it('starts the workflows that are missing, with delete for deployments being deleted', async () => {
    const { sut, woken } = build(['deployment-a']);
    await expect(sut.sweep()).resolves.toEqual({ unfinished: 3, running: 1, started: 2, failed: 0 });
    expect(woken).toEqual([
      { uid: 'b', signal: 'delete' },
      { uid: 'c', signal: 'reconcile' },
    ]);
  });

  it('keeps going when one start fails', async () => {
    const { sut, woken } = build([], 'a');
    await expect(sut.sweep()).resolves.toMatchObject({ started: 2, failed: 1 });
    expect(woken.map((w) => w.uid)).toEqual(['b', 'c']);
  });
});
