import { DeploymentsService, DeploymentStateService, DesiredState } from '../../../domain/src';
import { DeploymentMetrics } from './metrics.port';
import { createStateActivities } from './state.activities';

const NOW = new Date('2026-11-22T12:00:00Z');

function desired(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    deploymentId: 'd1',
    deploymentUid: 'web-1',
    userId: 'u1',
    productId: 'p1',
    productName: 'webapp',
    status: 'provisioning',
    generation: 1,
    observedGeneration: 0,
    deleting: false,
    template: { id: 't1', version: '1.0.0', chartRef: 'charts/webapp', chartVersion: '1.0.0', chartDigest: null, capabilities: {} },
    appliedTemplateId: null,
    ...overrides,
  };
}

describe(createStateActivities.name, () => {
  describe('recordApplied', () => {
    function setup(options: { before: DesiredState; request?: { kind: 'provisioning' | 'upgrade' | 'values'; at: Date }; written?: boolean }) {
      const state = {
        load: jest.fn(async () => options.before),
        pendingRequest: jest.fn(async () => options.request),
        recordObserved: jest.fn(async () => options.written ?? true),
        appendEvent: jest.fn(async () => undefined),
      };
      const metrics: jest.Mocked<DeploymentMetrics> = { requestReady: jest.fn(), driftChecked: jest.fn(), activityFailed: jest.fn() };
      const sut = createStateActivities({
        state: state as unknown as DeploymentStateService,
        deployments: {} as DeploymentsService,
        driftIntervalSeconds: 300,
        metrics,
        now: () => NOW,
      });
      return { sut, state, metrics };
    }
    const applied = (generation: number) => ({ deploymentId: 'd1', generation, templateId: 't1', templateVersion: '1.0.0', revision: 1 });

    it('reports provisioning time from the creation to the first ready release', async () => {
      const { sut, state, metrics } = setup({ before: desired(), request: { kind: 'provisioning', at: new Date(NOW.getTime() - 95_000) } });
      await expect(sut.recordApplied(applied(1))).resolves.toBe(true);
      expect(state.pendingRequest).toHaveBeenCalledWith('d1', 0);
      expect(metrics.requestReady).toHaveBeenCalledWith({ kind: 'provisioning', product: 'webapp', seconds: 95 });
    });

    it('reports an upgrade by its trigger', async () => {
      const { sut, metrics } = setup({ before: desired({ generation: 3, observedGeneration: 2, status: 'upgrading' }), request: { kind: 'upgrade', at: new Date(NOW.getTime() - 30_500) } });
      await sut.recordApplied(applied(3));
      expect(metrics.requestReady).toHaveBeenCalledWith({ kind: 'upgrade', product: 'webapp', seconds: 30.5 });
    });

    it('reports nothing when the generation was already ready (a re-apply after drift or a lost release)', async () => {
      const { sut, state, metrics } = setup({ before: desired({ generation: 2, observedGeneration: 2, status: 'ready' }) });
      await sut.recordApplied(applied(2));
      expect(state.pendingRequest).not.toHaveBeenCalled();
      expect(metrics.requestReady).not.toHaveBeenCalled();
    });

    it('reports nothing when the desired state moved on while helm ran (the write is refused)', async () => {
      const { sut, metrics } = setup({ before: desired(), request: { kind: 'provisioning', at: NOW }, written: false });
      await expect(sut.recordApplied(applied(1))).resolves.toBe(false);
      expect(metrics.requestReady).not.toHaveBeenCalled();
    });

    it('does not fail the activity when reporting throws', async () => {
      const { sut, metrics } = setup({ before: desired(), request: { kind: 'provisioning', at: NOW } });
      metrics.requestReady.mockImplementation(() => {
        throw new Error('metrics broke');
      });
      await expect(sut.recordApplied(applied(1))).resolves.toBe(true);
    });
  });
});
