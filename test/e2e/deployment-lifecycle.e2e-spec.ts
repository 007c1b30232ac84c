/**
 * The whole path on the local stack: HTTP → Postgres → Temporal → worker → helm and the
 * Kubernetes API (KWOK nodes). Nothing here is faked. It runs on the helm release backend, and
 * with CAELUS_TEST_BACKEND=flux (`npm run test:flux`) on the Flux one: the same API, events,
 * upgrade rules and drift correction, the release installed by helm-controller as the tenant.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, execFileAsync, exampleTemplate, poll, seedCatalog, Seeded, startWorker, TEST_BACKEND, waitForStatus } from '../support/lifecycle';

const SECRET = 'Sup3r-s3cret-admin-pw';

describe(`deployment lifecycle on the local stack (${TEST_BACKEND} release backend)`, () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let temporal: Client;
  let connection: Connection;
  let seed: Seeded;
  let admin: Record<string, string>;
  let d1: { id: string; deploymentUid: string };
  let pvcUid: string;

  const ready = (generation?: number) => (d: { status: string; observedGeneration: number; generation: number }) => d.status === 'ready' && d.observedGeneration === (generation ?? d.generation);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const get = (ref: { apiVersion: string; kind: string; name: string; namespace?: string }) => kube.get<KubeObject & Record<string, any>>(ref);

  beforeAll(async () => {
    // On Flux, helm-controller's own reconcile stays out of the way: the cluster watcher corrects drift, as on helm.
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '120', CAELUS_FLUX_INTERVAL: '3600' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    seed = await seedCatalog(api, uniqueName('webapp'), ['1.0.0', '1.1.0']);
    admin = bearer(api.adminToken);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await connection?.close();
  });

  it('creates a deployment that reaches ready with its namespace, quota, policy and release', async () => {
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(bearer(seed.userToken))
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('app')}.example.com`, values: { title: 'Hello', adminPassword: SECRET } })
      .expect(202);
    expect(res.body.values.adminPassword).toBe('[redacted]');
    d1 = res.body;
    const d = await waitForStatus(api, seed.userId, d1.id, ready(1));
    expect(d).toMatchObject({ appliedTemplateId: seed.templates['1.0.0'], lastError: null });

    const ns = d1.deploymentUid;
    const namespace = await get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    expect(namespace?.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'caelus', 'caelus.dev/deployment-uid': ns, 'pod-security.kubernetes.io/enforce': 'baseline' });
    expect(await kube.list('v1', 'ResourceQuota', { namespace: ns })).toHaveLength(1);
    expect(await kube.list('v1', 'LimitRange', { namespace: ns })).toHaveLength(1);
    expect((await kube.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: ns })).length).toBeGreaterThanOrEqual(1);
    const deployment = await get({ apiVersion: 'apps/v1', kind: 'Deployment', name: ns, namespace: ns });
    expect(deployment?.status?.availableReplicas).toBe(1);
    const secrets = await kube.listSecrets(ns, `owner=helm,name=${ns}`);
    expect(secrets.map((s) => s.metadata.labels?.status)).toContain('deployed');
    const pvcs = await kube.list('v1', 'PersistentVolumeClaim', { namespace: ns });
    expect(pvcs).toHaveLength(1);
    // The backend the template chose holds the release: a HelmRelease acting as the tenant on Flux, none on helm.
    const helmRelease = await get({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', name: ns, namespace: ns }).catch(() => undefined);
    expect(helmRelease?.spec?.serviceAccountName).toBe(TEST_BACKEND === 'flux' ? 'caelus-tenant' : undefined);
    pvcUid = pvcs[0].metadata.uid!;
    expect((pvcs[0] as KubeObject & { status?: { phase?: string } }).status?.phase).toBe('Bound');
  });

  it('applies a values change as a new generation and keeps the secret', async () => {
    const res = await api.http
      .put(`/users/${seed.userId}/deployments/${d1.id}`)
      .set(bearer(seed.userToken))
      .send({ values: { title: 'Changed', adminPassword: '[redacted]' } })
      .expect(202);
    expect(res.body.generation).toBe(2);
    await waitForStatus(api, seed.userId, d1.id, ready(2));
    const cm = await get({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d1.deploymentUid}-config`, namespace: d1.deploymentUid });
    expect(cm?.data?.title).toBe('Changed');
  });

  it('upgrades through the API to the next chart version and keeps the PVC', async () => {
    await api.http.post(`/users/${seed.userId}/deployments/${d1.id}/upgrade`).set(admin).send({ templateId: seed.templates['1.1.0'] }).expect(202);
    const d = await waitForStatus(api, seed.userId, d1.id, (x) => ready()(x) && x.generation === 3);
    expect(d).toMatchObject({ appliedTemplateId: seed.templates['1.1.0'] });
    const dep = await get({ apiVersion: 'apps/v1', kind: 'Deployment', name: d1.deploymentUid, namespace: d1.deploymentUid });
    expect(dep?.metadata.labels?.['helm.sh/chart']).toBe('webapp-1.1.0');
    const pvcs = await kube.list('v1', 'PersistentVolumeClaim', { namespace: d1.deploymentUid });
    expect(pvcs.map((p) => p.metadata.uid)).toEqual([pvcUid]);
  });

  it('detects and corrects drift: a deleted ConfigMap, a scaled Deployment and an edited label', async () => {
    const ns = d1.deploymentUid;
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${ns}-config`, namespace: ns });
    await kube.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', name: ns, namespace: ns }, { spec: { replicas: 3 } });
    await kube.mergePatch({ apiVersion: 'v1', kind: 'Service', name: ns, namespace: ns }, { metadata: { labels: { 'app.kubernetes.io/name': 'tampered' } } });

    const found = await poll(
      'drift events',
      () => events(api, seed.userId, d1.id),
      (evs) => evs.some((e) => e.type === 'drift-corrected'),
      60_000,
    );
    const detected = found.filter((e) => e.type === 'drift-detected').flatMap((e) => (e.data.objects as { kind: string; reason: string; fields: string[] }[]) ?? []);
    expect(detected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'ConfigMap', reason: 'missing' }),
        expect.objectContaining({ kind: 'Deployment', reason: 'modified', fields: expect.arrayContaining([expect.stringContaining('replicas')]) }),
        expect.objectContaining({ kind: 'Service', reason: 'modified' }),
      ]),
    );
    await poll(
      'ConfigMap back',
      () => get({ apiVersion: 'v1', kind: 'ConfigMap', name: `${ns}-config`, namespace: ns }),
      (cm) => cm?.data?.title === 'Changed',
      30_000,
    );
    const dep = await get({ apiVersion: 'apps/v1', kind: 'Deployment', name: ns, namespace: ns });
    expect(dep?.spec?.replicas).toBe(1);
    const svc = await get({ apiVersion: 'v1', kind: 'Service', name: ns, namespace: ns });
    expect(svc?.metadata.labels?.['app.kubernetes.io/name']).toBe('webapp');
  });

  it('accepts a raw upgrade signal from the Temporal CLI and rejects an invalid one without change', async () => {
    const other = await seedCatalog(api, uniqueName('other'), ['1.0.0']);
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(admin)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('raw')}.example.com`, values: { title: 'Raw' } })
      .expect(202);
    const d2 = res.body;
    await waitForStatus(api, seed.userId, d2.id, ready(1));
    const pvcBefore = await kube.list('v1', 'PersistentVolumeClaim', { namespace: d2.deploymentUid });

    const temporalCli = `${process.env.CAELUS_TOOLS_BIN}/temporal`;
    const signal = (payload: object) =>
      execFileAsync(temporalCli, [
        'workflow',
        'signal',
        '--address',
        process.env.TEMPORAL_ADDRESS!,
        '--namespace',
        process.env.TEMPORAL_NAMESPACE ?? 'default',
        '--workflow-id',
        d2.workflow.id,
        '--name',
        'upgrade',
        '--input',
        JSON.stringify(payload),
      ]);

    await signal({ templateId: other.templates['1.0.0'], requestedBy: 'ops@example.com' });
    const rejected = await poll(
      'rejected event',
      () => events(api, seed.userId, d2.id),
      (evs) => evs.some((e) => e.type === 'upgrade-rejected'),
      30_000,
    );
    expect(rejected.find((e) => e.type === 'upgrade-rejected')?.message).toMatch(/same product/);
    let now = await waitForStatus(api, seed.userId, d2.id, () => true);
    expect(now).toMatchObject({ generation: 1, desiredTemplateId: seed.templates['1.0.0'] });

    await signal({ templateId: seed.templates['1.1.0'] });
    now = await waitForStatus(api, seed.userId, d2.id, (x) => ready()(x) && x.generation === 2);
    expect(now).toMatchObject({ appliedTemplateId: seed.templates['1.1.0'] });
    const pvcAfter = await kube.list('v1', 'PersistentVolumeClaim', { namespace: d2.deploymentUid });
    expect(pvcAfter.map((p) => p.metadata.uid)).toEqual(pvcBefore.map((p) => p.metadata.uid));
    expect((await events(api, seed.userId, d2.id)).some((e) => e.type === 'upgrade-requested')).toBe(true);

    // Backwards, straight to the workflow: recorded as rejected, nothing changes.
    await signal({ templateId: seed.templates['1.0.0'] });
    await poll(
      'backwards rejection',
      () => events(api, seed.userId, d2.id),
      (evs) => evs.filter((e) => e.type === 'upgrade-rejected').length === 2,
      30_000,
    );
    expect(await waitForStatus(api, seed.userId, d2.id, () => true)).toMatchObject({ generation: 2, desiredTemplateId: seed.templates['1.1.0'], appliedTemplateId: seed.templates['1.1.0'] });

    await api.http.delete(`/users/${seed.userId}/deployments/${d2.id}`).set(admin).expect(202);
  });

  it('ends a chart with invalid values in error with a clear lastError and no retry storm', async () => {
    const bad = await exampleTemplate('1.0.0');
    // No template schema: only the chart's own values.schema.json (checked by helm) catches it.
    const t = await api.http
      .post(`/products/${seed.productId}/templates`)
      .set(admin)
      .send({ ...bad, version: '0.0.1-bad', valuesSchema: undefined, defaultValues: { ...(bad.defaultValues as object), replicas: 99 } })
      .expect(201);
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(admin)
      .send({ templateId: t.body.id, domainName: `${uniqueName('bad')}.example.com` })
      .expect(202);
    const d = await waitForStatus(api, seed.userId, res.body.id, (x) => x.status === 'error', 120_000);
    expect(d.lastError).toMatch(/schema|replicas/i);
    await new Promise((r) => setTimeout(r, 12_000));
    const errors = (await events(api, seed.userId, res.body.id)).filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    await api.http.delete(`/users/${seed.userId}/deployments/${res.body.id}`).set(admin).expect(202);
    await waitForStatus(api, seed.userId, res.body.id, (x) => x.status === 'deleted', 120_000);
  });

  it('deletes: release and namespace removed, status deleted, workflow completed', async () => {
    await api.http.delete(`/users/${seed.userId}/deployments/${d1.id}`).set(bearer(seed.userToken)).expect(202);
    await waitForStatus(api, seed.userId, d1.id, (x) => x.status === 'deleted');
    expect(await kube.getNamespace(d1.deploymentUid)).toBeUndefined();
    // `deleted` is written by the workflow's last activity; the run completes right after it.
    const handle = temporal.workflow.getHandle(`deployment-${d1.deploymentUid}`);
    await poll(
      'workflow completed',
      async () => (await handle.describe()).status.name,
      (s) => s === 'COMPLETED',
      30_000,
      250,
    );
    const evs = await events(api, seed.userId, d1.id);
    expect(evs.map((e) => e.type)).toEqual(expect.arrayContaining(['created', 'applied', 'values-updated', 'upgrade-requested', 'drift-detected', 'drift-corrected', 'delete-requested', 'deleted']));
    expect(JSON.stringify(evs)).not.toContain(SECRET);
  });
});
