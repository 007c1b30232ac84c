import { DeploymentStateService } from '../../../domain/src';
import { KubeClient, KubeObject, TenantClients } from '../../../platform/src';
import { createHealthActivities } from './health.activities';
import { DeploymentMetrics } from './metrics.port';

describe(createHealthActivities.name, () => {
  const deployment = (available: number): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web-1-web', namespace: 'web-1', generation: 2 },
    spec: { replicas: 1 },
    status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: available },
  });

  function setup(objects: KubeObject[] = [deployment(1)], written = true) {
    const listed: { kind: string; namespace?: string; as: string }[] = [];
    const clientAs = (as: string) => ({
      list: jest.fn(async (_apiVersion: string, kind: string, options: { namespace?: string }) => {
        listed.push({ kind, namespace: options.namespace, as });
        return objects.filter((o) => o.kind === kind);
      }),
    });
    const tenants = { for: jest.fn((namespace: string) => clientAs(`tenant:${namespace}`)) };
    const state = { recordHealth: jest.fn(async () => true), recordObserved: jest.fn(async () => written), appendEvent: jest.fn(async () => undefined) };
    const metrics: jest.Mocked<DeploymentMetrics> = { requestReady: jest.fn(), driftChecked: jest.fn(), activityFailed: jest.fn(), healthChanged: jest.fn() };
    const sut = createHealthActivities({
      kube: clientAs('worker') as unknown as KubeClient,
      tenants: tenants as unknown as TenantClients,
      state: state as unknown as DeploymentStateService,
      metrics,
      healthGraceSeconds: 120,
    });
    return { sut, state, metrics, listed, objects };
  }

  it('reads the workloads as the tenant, and records an assessment only when it changed', async () => {
    const { sut, state, listed, objects } = setup([deployment(0)]);
    const input = { deploymentId: 'd1', deploymentUid: 'web-1', generation: 2 };
    await expect(sut.assessHealth(input)).resolves.toEqual({ status: 'progressing', reason: 'Deployment/web-1-web: 0 of 1 replicas available' });
    expect(new Set(listed.map((l) => l.as))).toEqual(new Set(['tenant:web-1']));
    expect(new Set(listed.map((l) => l.namespace))).toEqual(new Set(['web-1']));
    expect(state.recordHealth).toHaveBeenCalledWith('d1', 2, {
      status: 'progressing',
      reason: 'Deployment/web-1-web: 0 of 1 replicas available',
      generation: 2,
      since: expect.any(String),
      objects: [{ kind: 'Deployment', name: 'web-1-web', status: 'progressing', reason: '0 of 1 replicas available' }],
    });

    await sut.assessHealth(input);
    expect(state.recordHealth).toHaveBeenCalledTimes(1);
    // Another reason for the same status: written, keeping the time the status began.
    const since = (state.recordHealth.mock.calls[0] as unknown[])[2] as { since: string };
    objects.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, status: { phase: 'Pending' } });
    await sut.assessHealth(input);
    expect(state.recordHealth).toHaveBeenCalledTimes(2);
    expect(state.recordHealth).toHaveBeenLastCalledWith('d1', 2, expect.objectContaining({ reason: 'Deployment/web-1-web: 0 of 1 replicas available (and 1 more)', since: since.since }));
    objects.pop();
    objects[0] = deployment(1);
    await expect(sut.assessHealth(input)).resolves.toEqual({ status: 'healthy', reason: null });
    expect(state.recordHealth).toHaveBeenCalledTimes(3);
    expect(state.recordHealth).toHaveBeenLastCalledWith('d1', 2, expect.objectContaining({ status: 'healthy', reason: null, objects: [] }));
  });

  it('bounds the reason it hands to the workflow', async () => {
    const long: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'x', message: 'm'.repeat(1000) }] } };
    const { sut } = setup([long]);
    const report = await sut.assessHealth({ deploymentId: 'd1', deploymentUid: 'web-1', generation: 2 });
    expect(report.status).toBe('unhealthy');
    expect(report.reason!.length).toBe(300);
  });

  it('records a degradation: the status, an event naming the object, the metric', async () => {
    const { sut, state, metrics } = setup();
    const reason = 'Deployment/web-1-web: 0 of 1 replicas available';
    await expect(sut.recordHealthChange({ deploymentId: 'd1', generation: 2, phase: 'degraded', reason, product: 'webapp', graceSeconds: 120 })).resolves.toBe(true);
    expect(state.recordObserved).toHaveBeenCalledWith('d1', 2, { status: 'degraded' });
    expect(state.appendEvent).toHaveBeenCalledWith({
      deploymentId: 'd1',
      generation: 2,
      type: 'degraded',
      actor: 'workflow',
      message: `degraded: ${reason} (not healthy for more than 120 s)`,
      data: { reason },
    });
    expect(metrics.healthChanged).toHaveBeenCalledWith({ product: 'webapp', phase: 'degraded' });
  });

  it('records a recovery', async () => {
    const { sut, state, metrics } = setup();
    await sut.recordHealthChange({ deploymentId: 'd1', generation: 2, phase: 'ready', reason: null, product: 'webapp', graceSeconds: 120 });
    expect(state.recordObserved).toHaveBeenCalledWith('d1', 2, { status: 'ready' });
    expect(state.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'recovered', message: 'the workloads are healthy again: ready' }));
    expect(metrics.healthChanged).toHaveBeenCalledWith({ product: 'webapp', phase: 'ready' });
  });

  it('writes no event and no metric when the generation moved on', async () => {
    const { sut, state, metrics } = setup(undefined, false);
    await expect(sut.recordHealthChange({ deploymentId: 'd1', generation: 2, phase: 'degraded', reason: 'x', product: 'webapp', graceSeconds: 120 })).resolves.toBe(false);
    expect(state.appendEvent).not.toHaveBeenCalled();
    expect(metrics.healthChanged).not.toHaveBeenCalled();
  });
});
