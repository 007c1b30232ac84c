import { DeploymentStateService } from './deployment-state.service';

describe(DeploymentStateService.name, () => {
  const row = {
    id: 'd1',
    deploymentUid: 'web-1',
    userId: 'u1',
    productId: 'p1',
    productName: 'webapp',
    status: 'ready',
    generation: 2,
    observedGeneration: 2,
    desiredTemplateId: 't1',
    appliedTemplateId: 't1',
  };
  const template = { id: 't1', version: '1.0.0', chartRef: 'charts/webapp', chartVersion: '1.0.0', chartDigest: null, capabilities: null };
  function setup() {
    const deployments = { findDesired: jest.fn(async () => ({ ...row })), writeDriftCheck: jest.fn(async () => true), writeObserved: jest.fn(async () => true) };
    const templates = { findById: jest.fn(async (id: string) => (id === 't1' ? { ...template } : null)) };
    const sut = new DeploymentStateService(deployments as never, templates as never, {} as never, {} as never);
    return { sut, deployments, templates };
  }

  it('loads the desired state, reading an (immutable) template version once', async () => {
    const { sut, templates, deployments } = setup();
    const first = await sut.load('d1');
    const second = await sut.load('d1');
    expect(second).toEqual(first);
    expect(first).toMatchObject({ deploymentUid: 'web-1', productName: 'webapp', deleting: false, template: { id: 't1', version: '1.0.0', capabilities: {} } });
    expect(deployments.findDesired).toHaveBeenCalledTimes(2);
    expect(templates.findById).toHaveBeenCalledTimes(1);
  });

  it('reads the row every time: status and generations are never cached', async () => {
    const { sut, deployments } = setup();
    await sut.load('d1');
    deployments.findDesired.mockResolvedValueOnce({ ...row, status: 'deleting', generation: 3 });
    await expect(sut.load('d1')).resolves.toMatchObject({ generation: 3, deleting: true });
  });

  it('says which deployment is missing', async () => {
    const { sut, deployments } = setup();
    deployments.findDesired.mockResolvedValueOnce(null as never);
    await expect(sut.load('d9')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('writes a clean drift check with its own guarded update, and one that changes the status through writeObserved', async () => {
    const { sut, deployments } = setup();
    const summary = { checkedAt: '2026-11-29T00:00:00.000Z', drifted: false, objects: [] };
    await expect(sut.recordDriftCheck('d1', 2, summary)).resolves.toBe(true);
    expect(deployments.writeDriftCheck).toHaveBeenCalledWith('d1', 2, new Date(summary.checkedAt), summary);
    await sut.recordDriftCheck('d1', 2, summary, 'degraded');
    expect(deployments.writeObserved).toHaveBeenCalledWith('d1', 2, { status: 'degraded', lastDriftCheckAt: new Date(summary.checkedAt), driftSummary: summary });
  });

  it('says which template is missing', async () => {
    const { sut, deployments } = setup();
    deployments.findDesired.mockResolvedValueOnce({ ...row, desiredTemplateId: 't9' });
    await expect(sut.load('d1')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
