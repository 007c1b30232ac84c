import { DeploymentStateService } from '../../../domain/src';
import { correctDrift, detectDrift, HelmReleaseStorage, KubeClient } from '../../../platform/src';
import { createDriftActivities } from './drift.activities';
import { DeploymentMetrics } from './metrics.port';

jest.mock('../../../platform/src', () => ({ ...jest.requireActual('../../../platform/src'), detectDrift: jest.fn(), correctDrift: jest.fn() }));

describe(createDriftActivities.name, () => {
  const loaded = (over: Record<string, unknown> = {}) => ({
    deploymentId: 'd1',
    deploymentUid: 'web-1',
    userId: 'u1',
    productName: 'webapp',
    status: 'ready',
    generation: 2,
    observedGeneration: 2,
    deleting: false,
    template: { id: 't1', version: '1.0.0' },
    appliedTemplateId: 't1',
    ...over,
  });
  function setup(manifest: string | undefined, row: unknown = loaded()) {
    const state = {
      load: jest.fn(async () => {
        if (row === null) throw Object.assign(new Error('deployment d1 not found'), { code: 'NotFound' });
        return row;
      }),
      recordDriftCheck: jest.fn(async () => true),
      appendEvent: jest.fn(async () => undefined),
    };
    const storage = { readDeployedManifest: jest.fn(async () => manifest) };
    const metrics: jest.Mocked<DeploymentMetrics> = { requestReady: jest.fn(), driftChecked: jest.fn(), activityFailed: jest.fn() };
    const sut = createDriftActivities({
      kube: {} as KubeClient,
      storage: storage as unknown as HelmReleaseStorage,
      state: state as unknown as DeploymentStateService,
      metrics,
      driftIntervalSeconds: 60,
    });
    return { sut, metrics, state, storage };
  }
  const object = (kind: string, name: string) => ({ kind, name, namespace: 'web-1', reason: 'changed', fields: ['spec.replicas'] });

  afterEach(() => jest.resetAllMocks());

  it('counts drifted and corrected objects by kind', async () => {
    jest.mocked(detectDrift).mockResolvedValue({ drifted: true, objects: [object('Deployment', 'web-1'), object('ConfigMap', 'web-1-config')] } as never);
    jest.mocked(correctDrift).mockResolvedValue({ corrected: [object('Deployment', 'web-1')] } as never);
    const { sut, metrics } = setup('kind: Deployment');

    await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 2, corrected: 1 });
    expect(metrics.driftChecked).toHaveBeenCalledWith({ product: 'webapp', outcome: 'drifted', found: ['Deployment', 'ConfigMap'], corrected: ['Deployment'] });
  });

  it('counts a clean check', async () => {
    jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] } as never);
    const { sut, metrics } = setup('kind: Deployment');
    await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
    expect(metrics.driftChecked).toHaveBeenCalledWith({ product: 'webapp', outcome: 'clean', found: [], corrected: [] });
    expect(correctDrift).not.toHaveBeenCalled();
  });

  it('counts a missing release', async () => {
    const { sut, metrics } = setup(undefined);
    await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toMatchObject({ releaseMissing: true });
    expect(metrics.driftChecked).toHaveBeenCalledWith({ product: 'webapp', outcome: 'release-missing', found: [], corrected: [] });
  });

  describe('driftTick', () => {
    it('loads the desired state once and checks the release', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] } as never);
      const { sut, state } = setup('kind: Deployment');
      await expect(sut.driftTick({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({
        desired: {
          deploymentId: 'd1',
          deploymentUid: 'web-1',
          userId: 'u1',
          productName: 'webapp',
          status: 'ready',
          generation: 2,
          observedGeneration: 2,
          deleting: false,
          templateId: 't1',
          templateVersion: '1.0.0',
          appliedTemplateId: 't1',
          driftIntervalSeconds: 60,
        },
        drift: { releaseMissing: false, drifted: 0, corrected: 0 },
      });
      expect(state.load).toHaveBeenCalledTimes(1);
      expect(state.recordDriftCheck).toHaveBeenCalledWith('d1', 2, expect.objectContaining({ drifted: false }));
    });

    it('does not check when the generation moved on (a lost signal): the workflow reconciles instead', async () => {
      const { sut, storage, state } = setup('kind: Deployment', loaded({ generation: 3 }));
      const res = await sut.driftTick({ deploymentId: 'd1', generation: 2 });
      expect(res.desired?.generation).toBe(3);
      expect(res.drift).toBeUndefined();
      expect(storage.readDeployedManifest).not.toHaveBeenCalled();
      expect(state.recordDriftCheck).not.toHaveBeenCalled();
    });

    it('does not check a deployment being deleted', async () => {
      const { sut, storage } = setup('kind: Deployment', loaded({ status: 'deleting', deleting: true }));
      const res = await sut.driftTick({ deploymentId: 'd1', generation: 2 });
      expect(res).toEqual({ desired: expect.objectContaining({ deleting: true }) });
      expect(storage.readDeployedManifest).not.toHaveBeenCalled();
    });

    it('returns no desired state when the row is gone', async () => {
      const { sut, storage } = setup('kind: Deployment', null);
      await expect(sut.driftTick({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ desired: null });
      expect(storage.readDeployedManifest).not.toHaveBeenCalled();
    });

    it('reports a missing release so the workflow re-applies', async () => {
      const { sut } = setup(undefined);
      await expect(sut.driftTick({ deploymentId: 'd1', generation: 2 })).resolves.toMatchObject({ drift: { releaseMissing: true } });
    });
  });
});
