import { Registry } from 'prom-client';
import { ApiMetrics, createMetricsRegistry, METRIC_NAMES, WorkerMetrics } from './metrics';

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

const sample = async (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<Sample[]> => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const match = (l: Record<string, unknown>) => Object.entries(labels).every(([k, v]) => String(l[k]) === v);
  return ((metric?.values ?? []) as Sample[]).filter((v) => match(v.labels));
};

describe('metric names', () => {
  it('all start with caelus_, process metrics included', async () => {
    for (const name of Object.values(METRIC_NAMES)) expect(name).toMatch(/^caelus_[a-z_]+$/);
    const registry = createMetricsRegistry();
    new WorkerMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['caelus_process_cpu_seconds_total', METRIC_NAMES.activityFailures]));
    expect(names.every((n) => n.startsWith('caelus_'))).toBe(true);
  });
});

describe(WorkerMetrics.name, () => {
  let registry: Registry;
  let sut: WorkerMetrics;

  beforeEach(() => {
    registry = createMetricsRegistry({ defaultMetrics: false });
    sut = new WorkerMetrics(registry);
  });

  it('observes provisioning in its own histogram and upgrades by trigger', async () => {
    sut.requestReady({ kind: 'provisioning', product: 'webapp', seconds: 42 });
    sut.requestReady({ kind: 'upgrade', product: 'webapp', seconds: 100 });
    sut.requestReady({ kind: 'values', product: 'webapp', seconds: 7 });

    expect(await sample(registry, METRIC_NAMES.provisioningDuration, { product: 'webapp' })).toEqual(
      expect.arrayContaining([expect.objectContaining({ metricName: `${METRIC_NAMES.provisioningDuration}_sum`, value: 42 })]),
    );
    const upgrades = await sample(registry, METRIC_NAMES.upgradeDuration);
    expect(upgrades.find((v) => v.metricName?.endsWith('_sum') && v.labels.trigger === 'upgrade')?.value).toBe(100);
    expect(upgrades.find((v) => v.metricName?.endsWith('_sum') && v.labels.trigger === 'values')?.value).toBe(7);
    expect(upgrades.find((v) => v.metricName?.endsWith('_count') && v.labels.trigger === 'values')?.value).toBe(1);
  });

  it('observes helm slot waits in seconds', async () => {
    sut.helmSlotGranted({ waitedMs: 0 });
    sut.helmSlotGranted({ waitedMs: 2500 });
    const samples = await sample(registry, METRIC_NAMES.helmSlotWait);
    expect(samples.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(2.5);
    expect(samples.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(2);
  });

  it('never observes a negative duration (clock skew between database and worker)', async () => {
    sut.requestReady({ kind: 'provisioning', product: 'webapp', seconds: -3 });
    const sum = (await sample(registry, METRIC_NAMES.provisioningDuration)).find((v) => v.metricName?.endsWith('_sum'));
    expect(sum?.value).toBe(0);
  });

  it('counts health changes by the phase they lead to', async () => {
    sut.healthChanged({ product: 'webapp', phase: 'degraded' });
    sut.healthChanged({ product: 'webapp', phase: 'degraded' });
    sut.healthChanged({ product: 'webapp', phase: 'ready' });

    expect((await sample(registry, METRIC_NAMES.healthChanges, { phase: 'degraded' }))[0].value).toBe(2);
    expect((await sample(registry, METRIC_NAMES.healthChanges, { phase: 'ready' }))[0].value).toBe(1);
  });

  it('counts drift checks by outcome and drifted and corrected objects by kind', async () => {
    sut.driftChecked({ product: 'webapp', outcome: 'clean', found: [], corrected: [] });
    sut.driftChecked({ product: 'webapp', outcome: 'drifted', found: ['Deployment', 'ConfigMap', 'Deployment'], corrected: ['Deployment', 'Deployment'] });

    expect((await sample(registry, METRIC_NAMES.driftChecks, { outcome: 'clean' }))[0].value).toBe(1);
    expect((await sample(registry, METRIC_NAMES.driftChecks, { outcome: 'drifted' }))[0].value).toBe(1);
    expect((await sample(registry, METRIC_NAMES.driftFound, { kind: 'Deployment' }))[0].value).toBe(2);
    expect((await sample(registry, METRIC_NAMES.driftFound, { kind: 'ConfigMap' }))[0].value).toBe(1);
    expect((await sample(registry, METRIC_NAMES.driftCorrected, { kind: 'Deployment' }))[0].value).toBe(2);
    expect(await sample(registry, METRIC_NAMES.driftCorrected, { kind: 'ConfigMap' })).toEqual([]);
  });

  it('counts activity failures by activity, type and retryability', async () => {
    sut.activityFailed({ activity: 'applyRelease', type: 'HelmError', nonRetryable: false });
    sut.activityFailed({ activity: 'applyRelease', type: 'HelmError', nonRetryable: false });
    sut.activityFailed({ activity: 'applyRelease', type: 'InvalidValues', nonRetryable: true });

    expect((await sample(registry, METRIC_NAMES.activityFailures, { type: 'HelmError', non_retryable: 'false' }))[0].value).toBe(2);
    expect((await sample(registry, METRIC_NAMES.activityFailures, { type: 'InvalidValues', non_retryable: 'true' }))[0].value).toBe(1);
  });

  it('renders the exposition format', async () => {
    sut.activityFailed({ activity: 'checkDrift', type: 'KubernetesError', nonRetryable: false });
    expect(await registry.metrics()).toContain('caelus_activity_failures_total{activity="checkDrift",type="KubernetesError",non_retryable="false"} 1');
  });
});

describe(ApiMetrics.name, () => {
  const statuses = ['provisioning', 'ready', 'error'];

  it('reads deployments by status on every scrape, zero for absent statuses', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    let counts: Record<string, number> = { ready: 3, error: 1 };
    const countByStatus = jest.fn(async () => counts);
    new ApiMetrics(registry, countByStatus, statuses);

    let text = await registry.metrics();
    expect(text).toContain('caelus_deployments{status="ready"} 3');
    expect(text).toContain('caelus_deployments{status="error"} 1');
    expect(text).toContain('caelus_deployments{status="provisioning"} 0');

    counts = { ready: 4 };
    text = await registry.metrics();
    expect(text).toContain('caelus_deployments{status="ready"} 4');
    expect(text).toContain('caelus_deployments{status="error"} 0');
    expect(countByStatus).toHaveBeenCalledTimes(2);
  });

  it('leaves the gauge out when Postgres does not answer', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    let fail = false;
    const onError = jest.fn();
    new ApiMetrics(registry, async () => (fail ? Promise.reject(new Error('connection refused')) : { ready: 2 }), statuses, onError);

    expect(await registry.metrics()).toContain('caelus_deployments{status="ready"} 2');
    fail = true;
    const text = await registry.metrics();
    expect(text).not.toMatch(/^caelus_deployments\{/m);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'connection refused' }));
  });
});
