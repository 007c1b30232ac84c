import { DeploymentStateService } from './deployment-state.service';

describe(DeploymentStateService.name, () => {
  const row = { id: 'd1', deploymentUid: 'web-1', userId: 'u1', productId: 'p1', status: 'ready', generation: 2, observedGeneration: 2, desiredTemplateId: 't1', appliedTemplateId: 't1' };
  const template = { id: 't1', version: '1.0.0', chartRef: 'charts/webapp', chartVersion: '1.0.0', chartDigest: null, capabilities: null };
  function setup() {
    const deployments = { findById: jest.fn(async () => ({ ...row })) };
    const templates = { findById: jest.fn(async (id: string) => (id === 't1' ? { ...template } : null)) };
    const products = { findById: jest.fn(async () => ({ id: 'p1', name: 'webapp' })) };
    const sut = new DeploymentStateService(deployments as never, templates as never, products as never, {} as never, {} as never);
    return { sut, deployments, templates, products };
  }

  it('loads the desired state, reading an (immutable) template version once', async () => {
    const { sut, templates, deployments } = setup();
    const first = await sut.load('d1');
    const second = await sut.load('d1');
    expect(second).toEqual(first);
    expect(first).toMatchObject({ deploymentUid: 'web-1', productName: 'webapp', deleting: false, template: { id: 't1', version: '1.0.0', capabilities: {} } });
    expect(deployments.findById).toHaveBeenCalledTimes(2);
    expect(templates.findById).toHaveBeenCalledTimes(1);
  });

  it('reads the row every time: status and generations are never cached', async () => {
    const { sut, deployments } = setup();
    await sut.load('d1');
    deployments.findById.mockResolvedValueOnce({ ...row, status: 'deleting', generation: 3 });
    await expect(sut.load('d1')).resolves.toMatchObject({ generation: 3, deleting: true });
  });

  it('says which template is missing', async () => {
    const { sut, deployments } = setup();
    deployments.findById.mockResolvedValueOnce({ ...row, desiredTemplateId: 't9' });
    await expect(sut.load('d1')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
