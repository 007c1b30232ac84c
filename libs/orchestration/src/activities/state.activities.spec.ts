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
    suspended: false,
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

  describe('acceptUpgrade and recordDroppedUpgrades', () => {
    const UUID = '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd';
    function setup(load: () => Promise<DesiredState> = async () => desired({ generation: 4 })) {
      const state = { load: jest.fn(load), appendEvent: jest.fn(async () => undefined) };
      const deployments = { acceptUpgradeSignal: jest.fn(async () => ({ outcome: 'accepted' as const, generation: 5, templateVersion: '1.1.0' })) };
      const sut = createStateActivities({
        state: state as unknown as DeploymentStateService,
        deployments: deployments as unknown as DeploymentsService,
        driftIntervalSeconds: 300,
        failedRecheckSeconds: 600,
        metrics: { requestReady: jest.fn(), driftChecked: jest.fn(), activityFailed: jest.fn() },
      });
      return { sut, state, deployments };
    }

    it('passes a valid signal to the domain with its sender', async () => {
      const { sut, deployments } = setup();
      await expect(sut.acceptUpgrade({ deploymentId: 'd1', templateId: UUID.toUpperCase(), requestedBy: 'ops' })).resolves.toMatchObject({ outcome: 'accepted' });
      expect(deployments.acceptUpgradeSignal).toHaveBeenCalledWith('d1', UUID, 'ops');
    });

    it('records the workflow’s rejection as an upgrade-rejected event at the current generation, without calling the domain', async () => {
      const { sut, state, deployments } = setup();
      await expect(sut.acceptUpgrade({ deploymentId: 'd1', templateId: '', rejected: 'templateId must be a UUID' })).resolves.toEqual({ outcome: 'rejected', reason: 'templateId must be a UUID' });
      expect(deployments.acceptUpgradeSignal).not.toHaveBeenCalled();
      expect(state.appendEvent).toHaveBeenCalledWith({
        deploymentId: 'd1',
        generation: 4,
        type: 'upgrade-rejected',
        actor: 'temporal-signal',
        message: 'upgrade rejected: templateId must be a UUID',
        data: { reason: 'templateId must be a UUID' },
      });
    });

    it('checks raw payloads queued by older runs again: a NUL in the sender is rejected, never written', async () => {
      const { sut, state, deployments } = setup();
      await expect(sut.acceptUpgrade({ deploymentId: 'd1', templateId: UUID, requestedBy: 'ad\u0000min' })).resolves.toMatchObject({ outcome: 'rejected' });
      expect(deployments.acceptUpgradeSignal).not.toHaveBeenCalled();
      const event = (state.appendEvent.mock.calls[0] as unknown[])[0] as { actor: string; message: string };
      expect(event.actor).toBe('temporal-signal');
      expect(event.message).not.toContain('\u0000');
    });

    it('returns the rejection without an event when the deployment is gone', async () => {
      const { sut, state } = setup(async () => {
        throw Object.assign(new Error('gone'), { code: 'NotFound' });
      });
      await expect(sut.acceptUpgrade({ deploymentId: 'd1', templateId: 7 })).resolves.toMatchObject({ outcome: 'rejected' });
      expect(state.appendEvent).not.toHaveBeenCalled();
    });

    it('records how many upgrade signals a full queue dropped, with valid template ids only', async () => {
      const { sut, state } = setup();
      await sut.recordDroppedUpgrades({ deploymentId: 'd1', count: 5, templateIds: [UUID, 'junk', 3], limit: 20 });
      expect(state.appendEvent).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'upgrade-rejected',
          generation: 4,
          message: '5 upgrade signal(s) dropped: more than 20 upgrade signals were waiting',
          data: expect.objectContaining({ dropped: 5, templateIds: [UUID] }),
        }),
      );
    });

    it('reports the re-check interval with the desired state', async () => {
      const { sut } = setup();
      await expect(sut.loadDesiredState({ deploymentId: 'd1' })).resolves.toMatchObject({ failedRecheckSeconds: 600, driftIntervalSeconds: 300 });
    });
  });
});
