import { DeploymentStateService } from '../../../domain/src';
import { correctDrift, detectDrift, HelmReleaseStorage, KubeClient } from '../../../platform/src';
import { createDriftActivities } from './drift.activities';
import { DeploymentMetrics } from './metrics.port';

jest.mock('../../../platform/src', () => ({ ...jest.requireActual('../../../platform/src'), detectDrift: jest.fn(), correctDrift: jest.fn() }));

describe(createDriftActivities.name, () => {
  function setup(manifest: string | undefined) {
    const state = {
      load: jest.fn(async () => ({ deploymentId: 'd1', deploymentUid: 'web-1', productName: 'webapp' })),
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
    });
    return { sut, metrics };
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
});
