import { DeploymentStateService } from '../../../domain/src';
import {
  ConfinementError,
  ReleaseStorageError,
  correctDrift,
  detectDrift,
  HelmReleaseBackend,
  HelmReleaseStorage,
  HelmRunner,
  KubeClient,
  KubeError,
  ManifestReview,
  MetadataCache,
  TenantClients,
} from '../../../platform/src';
import { createDriftActivities, HEALTH_RELIST_MS, workloadFingerprint } from './drift.activities';
import { ReleaseBackends } from './release-backends';
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
  function setup(
    manifest: string | undefined,
    row: unknown = loaded(),
    cache?: { cached: string | undefined; listed?: unknown[] },
    extra: { tenants?: TenantClients; confinement?: ManifestReview; healthGraceSeconds?: number } = {},
  ) {
    const state = {
      load: jest.fn(async () => {
        if (row === null) throw Object.assign(new Error('deployment d1 not found'), { code: 'NotFound' });
        return row;
      }),
      recordDriftCheck: jest.fn(async () => true),
      appendEvent: jest.fn(async () => undefined),
      recordHealth: jest.fn(async () => true),
    };
    const storage = { readDeployedManifest: jest.fn(async () => manifest), deployedManifestOf: jest.fn(async () => cache?.cached) };
    const kube = { getMetadata: jest.fn(async () => undefined), get: jest.fn(), apply: jest.fn(), isNamespaced: jest.fn() };
    const metadataCache = cache
      ? {
          releaseSecrets: jest.fn(() => cache.listed),
          resourceVersionOf: jest.fn((ref: { name: string; namespace?: string }): string | undefined => (ref.name === 'web-1' ? '42' : undefined)),
          prime: jest.fn(),
        }
      : undefined;
    const metrics: jest.Mocked<DeploymentMetrics> = { requestReady: jest.fn(), driftChecked: jest.fn(), activityFailed: jest.fn() };
    const sut = createDriftActivities({
      kube: kube as unknown as KubeClient,
      cache: metadataCache as unknown as MetadataCache,
      // The drift check reads the deployed manifest through the helm backend, cache first.
      releases: new HelmReleaseBackend({ helm: {} as HelmRunner, storage: storage as unknown as HelmReleaseStorage, cache: metadataCache as unknown as MetadataCache }),
      state: state as unknown as DeploymentStateService,
      metrics,
      driftIntervalSeconds: 60,
      ...extra,
    });
    return { sut, metrics, state, storage, kube, metadataCache };
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
    jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
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

  describe('while suspended', () => {
    it('records the drift and corrects nothing', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: true, objects: [object('ConfigMap', 'web-1-config')] } as never);
      const { sut, state, metrics } = setup('kind: ConfigMap', loaded({ suspended: true }));

      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 1, corrected: 0 });
      expect(correctDrift).not.toHaveBeenCalled();
      expect(state.appendEvent).toHaveBeenCalledTimes(1);
      expect(state.appendEvent).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'drift-detected',
          message: 'drift in ConfigMap/web-1-config; not corrected: the deployment is suspended',
          data: { objects: [object('ConfigMap', 'web-1-config')], corrected: false, suspended: true },
        }),
      );
      expect(state.recordDriftCheck).toHaveBeenCalledWith('d1', 2, expect.objectContaining({ drifted: true, objects: [object('ConfigMap', 'web-1-config')] }));
      expect(metrics.driftChecked).toHaveBeenCalledWith({ product: 'webapp', outcome: 'drifted', found: ['ConfigMap'], corrected: [] });
    });

    it('records the same drift once, and again once it changed or came back', async () => {
      const { sut, state } = setup('kind: ConfigMap', loaded({ suspended: true }));
      const tick = async (objects: ReturnType<typeof object>[]) => {
        jest.mocked(detectDrift).mockResolvedValue({ drifted: objects.length > 0, objects } as never);
        await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      };
      await tick([object('ConfigMap', 'web-1-config')]);
      await tick([object('ConfigMap', 'web-1-config')]);
      expect(state.appendEvent).toHaveBeenCalledTimes(1);
      await tick([object('ConfigMap', 'web-1-config'), object('Deployment', 'web-1')]);
      expect(state.appendEvent).toHaveBeenCalledTimes(2);
      await tick([]);
      await tick([object('ConfigMap', 'web-1-config')]);
      expect(state.appendEvent).toHaveBeenCalledTimes(3);
      expect(state.recordDriftCheck).toHaveBeenCalledTimes(5);
      expect(correctDrift).not.toHaveBeenCalled();
    });

    it('checks at the generation that waits, and says the deployment is suspended', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut } = setup('kind: Deployment', loaded({ suspended: true, generation: 3, status: 'upgrading' }));
      const res = await sut.driftTick({ deploymentId: 'd1', generation: 3 });
      expect(res.desired).toMatchObject({ suspended: true, generation: 3, observedGeneration: 2 });
      expect(res.drift).toEqual({ releaseMissing: false, drifted: 0, corrected: 0 });
    });
  });

  describe('confinement', () => {
    const refusal = new ConfinementError('deployed release manifest', [
      { rule: 'sameNamespace', kind: 'ConfigMap', name: 'leak', namespace: 'victim', message: 'ConfigMap "leak" in namespace "victim": outside' },
    ]);

    it('compares and corrects nothing of a manifest that breaks confinement, and records it once', async () => {
      const confinement = { review: jest.fn(async () => Promise.reject(refusal)) };
      const { sut, state } = setup('kind: ConfigMap', loaded(), undefined, { confinement });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).rejects.toMatchObject({ type: 'Confinement', nonRetryable: true });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).rejects.toMatchObject({ type: 'Confinement' });
      expect(detectDrift).not.toHaveBeenCalled();
      expect(correctDrift).not.toHaveBeenCalled();
      expect(confinement.review).toHaveBeenCalledTimes(1);
      expect(state.appendEvent).toHaveBeenCalledTimes(1);
      expect(state.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'error', message: expect.stringContaining('drift check: deployed release manifest refused') }));
    });

    it('trusts no release Secret that fails validation: no check, no correction, reported once', async () => {
      const { sut, state, storage } = setup('kind: Deployment');
      storage.readDeployedManifest.mockRejectedValue(new ReleaseStorageError('helm release Secret web-1/x is not trusted: its owner label is not "helm"'));
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).rejects.toMatchObject({ type: 'ReleaseStorageInvalid', nonRetryable: true });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).rejects.toMatchObject({ type: 'ReleaseStorageInvalid' });
      expect(detectDrift).not.toHaveBeenCalled();
      expect(correctDrift).not.toHaveBeenCalled();
      expect(state.appendEvent).toHaveBeenCalledTimes(1);
      expect(state.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'error', message: 'drift check: helm release Secret web-1/x is not trusted: its owner label is not "helm"' }));
    });

    it('reads and corrects as the namespace’s tenant, once the manifest passed', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: true, objects: [object('Deployment', 'web-1')] } as never);
      jest.mocked(correctDrift).mockResolvedValue({ corrected: [object('Deployment', 'web-1')] } as never);
      const tenant = { get: jest.fn(), apply: jest.fn(), getMetadata: jest.fn(), isNamespaced: jest.fn() };
      const tenants = { for: jest.fn(() => tenant) };
      const confinement = { review: jest.fn(async () => []) };
      const { sut } = setup('kind: Deployment', loaded(), undefined, { tenants: tenants as unknown as TenantClients, confinement });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toMatchObject({ corrected: 1 });
      expect(confinement.review).toHaveBeenCalledWith('kind: Deployment', 'web-1', 'deployed release manifest');
      expect(tenants.for).toHaveBeenCalledWith('web-1');
      expect(jest.mocked(detectDrift).mock.calls[0][0]).toBe(tenant);
      expect(jest.mocked(correctDrift).mock.calls[0][0]).toBe(tenant);
    });
    it('re-applies when the tenant is forbidden in its namespace (RoleBinding or namespace removed by hand), and says so', async () => {
      const tenants = { for: jest.fn(() => ({})) };
      const { sut, state, storage, metrics } = setup('kind: Deployment', loaded(), undefined, { tenants: tenants as unknown as TenantClients });
      storage.readDeployedManifest.mockRejectedValue(new KubeError('list Secret in web-1: secrets is forbidden', 403, 'Forbidden', false));
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: true, drifted: 0, corrected: 0 });
      expect(state.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'drift-detected', message: expect.stringContaining('re-applying the namespace') }));
      expect(metrics.driftChecked).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'release-missing' }));
    });

    it('still fails on a Forbidden when it acts as itself (no tenant identity to restore)', async () => {
      const { sut, storage } = setup('kind: Deployment');
      storage.readDeployedManifest.mockRejectedValue(new KubeError('secrets is forbidden', 403, 'Forbidden', false));
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).rejects.toMatchObject({ nonRetryable: true });
    });
  });

  describe('drift the release backend corrected by itself (Flux)', () => {
    const report = (key: string, corrected = true) => ({
      at: new Date('2026-12-01T10:00:05Z'),
      corrected,
      objects: [{ kind: 'ConfigMap', name: 'web-1-config', reason: 'missing' as const }],
      summary: 'Cluster state of release web-1/web-1.v2 has been corrected:',
      key,
    });
    const fluxSetup = (reports: () => Promise<ReturnType<typeof report>[]>, lastDriftCheckAt: Date | null = new Date('2026-12-01T10:00:00Z')) => {
      const s = setup('kind: Deployment', loaded({ template: { id: 't1', version: '1.0.0', capabilities: { backend: 'flux' } }, lastDriftCheckAt }));
      const flux = { readDeployedManifest: jest.fn(async () => 'kind: Deployment'), driftReports: jest.fn(reports) };
      const helm = { readDeployedManifest: jest.fn() };
      const sut = createDriftActivities({
        kube: s.kube as unknown as KubeClient,
        releases: new ReleaseBackends({ helm: helm as never, flux: flux as never }),
        state: s.state as unknown as DeploymentStateService,
        metrics: s.metrics,
        driftIntervalSeconds: 60,
      });
      return { ...s, sut, flux };
    };

    it('records each correction since the last check once, as an event of the backend, before its own check', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut, state, flux } = fluxSetup(async () => [report('uid-1#1')]);
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(flux.driftReports).toHaveBeenCalledWith({ release: 'web-1', namespace: 'web-1', backend: 'flux' }, new Date('2026-12-01T10:00:00Z'));
      const events = state.appendEvent.mock.calls.map((c) => (c as unknown[])[0]);
      expect(events).toEqual([
        {
          deploymentId: 'd1',
          generation: 2,
          type: 'drift-corrected',
          actor: 'flux',
          message: 'flux corrected drift in ConfigMap/web-1-config',
          data: { objects: [{ kind: 'ConfigMap', name: 'web-1-config', reason: 'missing' }], corrected: true, by: 'flux', at: '2026-12-01T10:00:05.000Z' },
        },
      ]);
    });

    it('says what the backend could not correct, and reads from the start when no check was recorded yet', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut, state, flux } = fluxSetup(async () => [report('uid-2#1', false)], null);
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(flux.driftReports).toHaveBeenCalledWith(expect.anything(), new Date(0));
      expect(state.appendEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'drift-detected', actor: 'flux', message: expect.stringMatching(/^flux could not correct drift: /) }));
    });

    it('still checks when the reports cannot be read', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut, state } = fluxSetup(async () => Promise.reject(new Error('events is forbidden')));
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 0, corrected: 0 });
      expect(state.appendEvent).not.toHaveBeenCalled();
      expect(state.recordDriftCheck).toHaveBeenCalled();
    });

    it('asks a helm-backed deployment for nothing', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut, state } = setup('kind: Deployment');
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(state.appendEvent).not.toHaveBeenCalled();
    });
  });

  describe('driftTick', () => {
    it('loads the desired state once and checks the release', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
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

    describe('with health assessed', () => {
      const unavailable = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', generation: 1 },
        spec: { replicas: 1 },
        status: { observedGeneration: 1, updatedReplicas: 1, replicas: 1 },
      };
      const tenantReading = (items: unknown[]) => {
        const list = jest.fn(async (_apiVersion: string, kind: string) => items.filter((i) => (i as { kind: string }).kind === kind));
        return { tenants: { for: jest.fn(() => ({ list, getMetadata: jest.fn(async () => undefined) })) } as unknown as TenantClients, list };
      };

      it('assesses the workloads after the check and says the grace in the desired state', async () => {
        jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
        const { tenants } = tenantReading([unavailable]);
        const { sut, state } = setup('kind: Deployment', loaded(), undefined, { tenants, healthGraceSeconds: 120 });
        const res = await sut.driftTick({ deploymentId: 'd1', generation: 2 });
        expect(res.desired?.healthGraceSeconds).toBe(120);
        expect(res.health).toEqual({ status: 'progressing', reason: 'Deployment/web: 0 of 1 replicas available' });
        expect(state.recordHealth).toHaveBeenCalledWith('d1', 2, expect.objectContaining({ status: 'progressing', generation: 2 }));
      });

      it('does not assess a suspended deployment', async () => {
        jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
        const { tenants, list } = tenantReading([unavailable]);
        const { sut } = setup('kind: Deployment', loaded({ suspended: true }), undefined, { tenants, healthGraceSeconds: 120 });
        const res = await sut.driftTick({ deploymentId: 'd1', generation: 2 });
        expect(res.health).toBeUndefined();
        expect(list).not.toHaveBeenCalled();
      });

      it('leaves health out, and still answers the drift check, when the workloads cannot be read', async () => {
        jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
        const tenants = { for: jest.fn(() => ({ list: jest.fn(async () => Promise.reject(new KubeError('list Deployment: Forbidden', 403, 'Forbidden', false))) })) } as unknown as TenantClients;
        const { sut } = setup('kind: Deployment', loaded(), undefined, { tenants, healthGraceSeconds: 120 });
        const res = await sut.driftTick({ deploymentId: 'd1', generation: 2 });
        expect(res).toEqual({ desired: expect.objectContaining({ healthGraceSeconds: 120 }), drift: { releaseMissing: false, drifted: 0, corrected: 0 } });
      });
    });
  });

  describe('health while the watch shows no change', () => {
    const secrets = [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sh.helm.release.v1.web-1.v1', namespace: 'web-1', resourceVersion: '9', labels: { status: 'deployed' } } }];
    const available = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web-1', generation: 1 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, updatedReplicas: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1 },
    };
    function healthSetup(manifestObjects: { apiVersion: string; kind: string; metadata: { name: string } }[], items: unknown[] = [available]) {
      jest.mocked(detectDrift).mockImplementation(async (_kube, _manifest, options) => {
        options.memo!.objects = manifestObjects;
        return { drifted: false, objects: [] };
      });
      const list = jest.fn(async (_apiVersion: string, kind: string) => items.filter((i) => (i as { kind: string }).kind === kind));
      const tenants = { for: jest.fn(() => ({ list, getMetadata: jest.fn(async () => undefined) })) } as unknown as TenantClients;
      const versions = new Map<string, string>(manifestObjects.map((o) => [o.metadata.name, '1']));
      const ctx = setup('kind: Deployment', loaded(), { cached: 'kind: Deployment', listed: secrets }, { tenants, healthGraceSeconds: 120 });
      ctx.metadataCache!.resourceVersionOf.mockImplementation((ref: { name: string; namespace?: string }) => (ref.namespace === 'web-1' ? versions.get(ref.name) : undefined));
      return { ...ctx, list, versions };
    }
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-1' } };
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-1-data' } };
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-1-config' } };
    const tick = (sut: ReturnType<typeof setup>['sut'], fresh?: boolean) => sut.driftTick({ deploymentId: 'd1', generation: 2, ...(fresh ? { fresh } : {}) });

    afterEach(() => jest.restoreAllMocks());

    it('keeps a healthy assessment, without listing, while none of the workloads changed', async () => {
      const { sut, list } = healthSetup([deployment, claim, config]);
      await expect(tick(sut)).resolves.toMatchObject({ health: { status: 'healthy', reason: null } });
      const listed = list.mock.calls.length;
      expect(listed).toBeGreaterThan(0);
      await expect(tick(sut)).resolves.toMatchObject({ drift: { drifted: 0 }, health: { status: 'healthy', reason: null } });
      expect(list).toHaveBeenCalledTimes(listed);
    });

    it('lists again when a workload changed, whatever the other objects did', async () => {
      const { sut, list, versions } = healthSetup([deployment, claim, config]);
      await tick(sut);
      const listed = list.mock.calls.length;
      versions.set('web-1-config', '2');
      await tick(sut);
      expect(list).toHaveBeenCalledTimes(listed);
      versions.set('web-1', '2');
      await tick(sut);
      expect(list).toHaveBeenCalledTimes(2 * listed);
    });

    it('lists on a tick the cluster watcher caused', async () => {
      const { sut, list } = healthSetup([deployment]);
      await tick(sut);
      const listed = list.mock.calls.length;
      await tick(sut, true);
      expect(list).toHaveBeenCalledTimes(2 * listed);
    });

    it('does not keep an assessment that was not healthy', async () => {
      const { sut, list } = healthSetup([deployment], [{ ...available, status: { ...available.status, availableReplicas: 0, readyReplicas: 0 } }]);
      await expect(tick(sut)).resolves.toMatchObject({ health: { status: 'progressing' } });
      const listed = list.mock.calls.length;
      await tick(sut);
      expect(list).toHaveBeenCalledTimes(2 * listed);
    });

    it('lists when the cache cannot tell for a workload, or the release has a CronJob', async () => {
      const unknown = healthSetup([deployment]);
      unknown.versions.delete('web-1');
      await tick(unknown.sut);
      const once = unknown.list.mock.calls.length;
      expect(once).toBeGreaterThan(0);
      await tick(unknown.sut);
      expect(unknown.list).toHaveBeenCalledTimes(2 * once);
      const cron = healthSetup([deployment, { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'web-1-backup' } }]);
      await tick(cron.sut);
      const listed = cron.list.mock.calls.length;
      await tick(cron.sut);
      expect(cron.list).toHaveBeenCalledTimes(2 * listed);
    });

    it('reads from the API server again once the kept assessment is old', async () => {
      const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
      const { sut, list } = healthSetup([deployment]);
      await tick(sut);
      const listed = list.mock.calls.length;
      now.mockReturnValue(1_000_000 + HEALTH_RELIST_MS - 1);
      await tick(sut);
      expect(list).toHaveBeenCalledTimes(listed);
      now.mockReturnValue(1_000_000 + HEALTH_RELIST_MS);
      await tick(sut);
      expect(list).toHaveBeenCalledTimes(2 * listed);
    });

    it('fingerprints only the status-carrying objects, in the release namespace unless they name another', () => {
      const cache = { resourceVersionOf: jest.fn((ref: { name: string; namespace?: string }) => `${ref.namespace}:${ref.name}`) };
      const objects = [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'web-1' } },
      ];
      expect(workloadFingerprint(objects, cache, 'web-1')).toBe('Deployment/a@web-1:a,PersistentVolumeClaim/c@web-1:c');
      expect(workloadFingerprint(objects, undefined, 'web-1')).toBeUndefined();
      expect(workloadFingerprint(undefined, cache, 'web-1')).toBeUndefined();
    });
  });

  describe('with the watch cache', () => {
    const secrets = [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sh.helm.release.v1.web-1.v1', namespace: 'web-1', resourceVersion: '9', labels: { status: 'deployed' } } }];

    it("reads the manifest and the objects' resourceVersions from the cache on a clean check", async () => {
      jest.mocked(detectDrift).mockImplementation(async (kube) => {
        const known = await kube.getMetadata({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'web-1', name: 'web-1' });
        const unknown = await kube.getMetadata({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'web-1', name: 'other' });
        expect(known?.metadata.resourceVersion).toBe('42');
        expect(unknown).toBeUndefined();
        return { drifted: false, objects: [] };
      });
      const { sut, storage, kube, metadataCache } = setup('kind: Deployment', loaded(), { cached: 'kind: Deployment', listed: secrets });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 0, corrected: 0 });
      expect(metadataCache!.releaseSecrets).toHaveBeenCalledWith('web-1', 'web-1');
      expect(storage.deployedManifestOf).toHaveBeenCalledWith(secrets, 'web-1', 'web-1');
      expect(storage.readDeployedManifest).not.toHaveBeenCalled();
      // Only the object the cache does not hold went to the API server.
      expect(kube.getMetadata).toHaveBeenCalledTimes(1);
      expect(kube.getMetadata).toHaveBeenCalledWith(expect.objectContaining({ name: 'other' }));
    });

    it("starts watching the release's kinds at its first check", async () => {
      jest.mocked(detectDrift).mockImplementation(async (_kube, _manifest, options) => {
        options.memo!.objects = [
          { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-1' } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-1-config' } },
        ];
        return { drifted: false, objects: [] };
      });
      const { sut, metadataCache } = setup('kind: Deployment', loaded(), { cached: undefined, listed: undefined });
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(metadataCache!.prime.mock.calls).toEqual([
        ['apps/v1', 'Deployment'],
        ['v1', 'ConfigMap'],
      ]);
      // Once per manifest: the next check of the same manifest does not look again.
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(metadataCache!.prime).toHaveBeenCalledTimes(2);
    });

    it('lists from the API server while the Secret watch is not synced', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      const { sut, storage } = setup('kind: Deployment', loaded(), { cached: undefined, listed: undefined });
      await sut.checkDrift({ deploymentId: 'd1', generation: 2 });
      expect(storage.deployedManifestOf).not.toHaveBeenCalled();
      expect(storage.readDeployedManifest).toHaveBeenCalledTimes(1);
    });

    it('reads everything again from the API server before correcting, and corrects against the fresh manifest', async () => {
      // The cache still shows the revision before an upgrade: against it, the live objects look drifted.
      jest
        .mocked(detectDrift)
        .mockImplementation(async (_kube, manifest) => (manifest === 'revision: 1' ? { drifted: true, objects: [object('Deployment', 'web-1')] } : { drifted: false, objects: [] }) as never);
      const { sut, storage, state } = setup('revision: 2', loaded(), { cached: 'revision: 1', listed: secrets });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 0, corrected: 0 });
      expect(storage.readDeployedManifest).toHaveBeenCalledTimes(1);
      expect(jest.mocked(detectDrift).mock.calls.map((c) => c[1])).toEqual(['revision: 1', 'revision: 2']);
      expect(correctDrift).not.toHaveBeenCalled();
      expect(state.appendEvent).not.toHaveBeenCalled();
    });

    it('confirms drift with direct reads, then corrects it', async () => {
      jest.mocked(detectDrift).mockResolvedValue({ drifted: true, objects: [object('Deployment', 'web-1')] } as never);
      jest.mocked(correctDrift).mockResolvedValue({ corrected: [object('Deployment', 'web-1')] } as never);
      const { sut, kube } = setup('kind: Deployment', loaded(), { cached: 'kind: Deployment', listed: secrets });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toEqual({ releaseMissing: false, drifted: 1, corrected: 1 });
      expect(detectDrift).toHaveBeenCalledTimes(2);
      // The second look used the client itself, not the cache.
      expect(jest.mocked(detectDrift).mock.calls[1][0]).toBe(kube);
    });

    it('confirms a missing release with a direct read', async () => {
      const { sut, storage } = setup('kind: Deployment', loaded(), { cached: undefined, listed: [] });
      jest.mocked(detectDrift).mockResolvedValue({ drifted: false, objects: [] });
      await expect(sut.checkDrift({ deploymentId: 'd1', generation: 2 })).resolves.toMatchObject({ releaseMissing: false });
      expect(storage.readDeployedManifest).toHaveBeenCalledTimes(1);
    });
  });
});
