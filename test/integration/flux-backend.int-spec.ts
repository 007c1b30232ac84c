/**
 * The Flux release backend on the local stack with Flux (`npm run test:flux`): a template with
 * `capabilities.backend: flux` goes through the same API, workflow and activities as a helm one,
 * and the worker projects it as an OCIRepository, a HelmRelease and a values Secret that Flux's
 * controllers install as the tenant ServiceAccount. Create → ready → values change → upgrade →
 * delete, nothing faked.
 */
import { INestApplicationContext } from '@nestjs/common';
import { ensureStack } from '../../scripts/stack';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, exampleChart, poll, pushExampleChart, startWorker, waitForStatus } from '../support/lifecycle';

jest.setTimeout(600_000);

const SECRET = 'Flux-s3cret-admin-pw';

describe('the Flux release backend on the local stack', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let admin: Record<string, string>;
  let productId: string;
  const templates: Record<string, string> = {};
  let userId: string;
  let d: { id: string; deploymentUid: string };

  const ready = (generation: number) => (x: { status: string; observedGeneration: number }) => x.status === 'ready' && x.observedGeneration === generation;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = KubeObject & Record<string, any>;
  const helmRelease = () => kube.get<Loose>({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', name: d.deploymentUid, namespace: d.deploymentUid });
  const configMap = () => kube.get<Loose>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });

  beforeAll(async () => {
    await ensureStack({ only: ['flux'], log: () => undefined });
    // helm-controller reconciles every 5 s; Caelus checks drift only every 30 s and without the cluster
    // watcher, so a change made right after one of its checks is helm-controller's to correct.
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '30', CAELUS_DRIFT_WATCH: 'false', CAELUS_FLUX_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '180' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    admin = bearer(api.adminToken);
    const product = await api.http
      .post('/products')
      .set(admin)
      .send({ name: uniqueName('fluxapp') })
      .expect(201);
    productId = product.body.id;
    for (const version of ['1.0.0', '1.1.0']) {
      const chart = await pushExampleChart(version);
      const { defaultValues, valuesSchema } = exampleChart(version);
      const t = await api.http
        .post(`/products/${productId}/templates`)
        .set(admin)
        .send({ version, chartRef: chart.ref, chartVersion: version, chartDigest: chart.digest, defaultValues, valuesSchema, capabilities: { backend: 'flux' } })
        .expect(201);
      expect(t.body.capabilities).toEqual({ backend: 'flux' });
      templates[version] = t.body.id;
    }
    const user = await api.http
      .post('/users')
      .set(admin)
      .send({ email: `${uniqueName('flux')}@example.com` })
      .expect(201);
    userId = user.body.id;
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('refuses an unknown backend, and flux for a chart it cannot pull', async () => {
    const local = exampleChart('1.0.0');
    const unknown = await api.http
      .post(`/products/${productId}/templates`)
      .set(admin)
      .send({ version: '9.0.0', ...local, capabilities: { backend: 'argo' } })
      .expect(400);
    expect(JSON.stringify(unknown.body)).toMatch(/capabilities\.backend/);
    const fluxLocal = await api.http
      .post(`/products/${productId}/templates`)
      .set(admin)
      .send({ version: '9.0.1', ...local, capabilities: { backend: 'flux' } })
      .expect(400);
    expect(JSON.stringify(fluxLocal.body)).toMatch(/oci:\/\//);
  });

  it('creates a deployment that Flux installs as the tenant, with the secret only in the values Secret', async () => {
    const res = await api.http
      .post(`/users/${userId}/deployments`)
      .set(admin)
      .send({ templateId: templates['1.0.0'], domainName: `${uniqueName('flux')}.example.com`, values: { title: 'From Flux', adminPassword: SECRET } })
      .expect(202);
    d = res.body;
    await waitForStatus(api, userId, d.id, ready(1));

    const hr = await helmRelease();
    expect(hr?.spec).toMatchObject({ serviceAccountName: 'caelus-tenant', releaseName: d.deploymentUid, driftDetection: { mode: 'enabled' }, chartRef: { kind: 'OCIRepository' } });
    expect(hr?.spec.values.user.title).toBe('From Flux');
    expect(JSON.stringify(hr)).not.toContain(SECRET);
    const source = await kube.get<Loose>({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', name: d.deploymentUid, namespace: d.deploymentUid });
    expect(source?.spec).toMatchObject({ insecure: true, ref: { digest: expect.stringMatching(/^sha256:/) } });
    const values = await kube.readSecret(d.deploymentUid, 'caelus-release-values');
    expect(Buffer.from((values?.data as Record<string, string>)['values.yaml'], 'base64').toString()).toContain(SECRET);

    // helm-controller wrote helm's own release storage, as the tenant installed the chart's objects.
    const stored = await kube.listSecrets(d.deploymentUid, `owner=helm,name=${d.deploymentUid}`);
    expect(stored.map((s) => s.metadata.labels?.status)).toEqual(['deployed']);
    expect((await configMap())?.data?.title).toBe('From Flux');
    const adminSecret = await kube.readSecret(d.deploymentUid, `${d.deploymentUid}-admin`);
    expect(Buffer.from(Object.values(adminSecret?.data as Record<string, string>)[0], 'base64').toString()).toBe(SECRET);
    // Nothing the API shows or the events carry holds the secret.
    expect(JSON.stringify(await events(api, userId, d.id))).not.toContain(SECRET);
  });

  it('checks drift on the release Flux deployed (read from helm storage)', async () => {
    const checked = await poll(
      'a drift check',
      async () => (await api.http.get(`/users/${userId}/deployments/${d.id}`).set(admin)).body,
      (x: { lastDriftCheckAt: string | null; status: string }) => x.lastDriftCheckAt !== null,
      60_000,
    );
    expect(checked.status).toBe('ready');
  });

  it("records drift helm-controller corrected on its own reconcile as the deployment's event", async () => {
    // Right after one of Caelus's checks (the next is 30 s away), so helm-controller (every 5 s) corrects it.
    const checkedAt = async () => (await api.http.get(`/users/${userId}/deployments/${d.id}`).set(admin)).body.lastDriftCheckAt as string;
    const before = await checkedAt();
    await poll('a drift check', checkedAt, (at) => at !== before, 60_000, 100);
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
    await poll('helm-controller recreating the ConfigMap', configMap, (cm) => cm?.data?.title === 'From Flux', 25_000, 250);
    const found = await poll(
      "Flux's correction in the events",
      () => events(api, userId, d.id),
      (evs) => evs.some((e) => e.type === 'drift-corrected' && e.actor === 'flux'),
      60_000,
    );
    const byFlux = found.filter((e) => e.actor === 'flux');
    expect(byFlux).toHaveLength(1);
    expect(byFlux[0]).toMatchObject({
      message: `flux corrected drift in ConfigMap/${d.deploymentUid}-config`,
      data: { objects: [{ kind: 'ConfigMap', name: `${d.deploymentUid}-config`, reason: 'missing' }], corrected: true },
    });
  });

  it('applies a values change as a new revision', async () => {
    await api.http
      .put(`/users/${userId}/deployments/${d.id}`)
      .set(admin)
      .send({ values: { title: 'Changed by Flux', adminPassword: '[redacted]' } })
      .expect(202);
    await waitForStatus(api, userId, d.id, ready(2));
    expect((await configMap())?.data?.title).toBe('Changed by Flux');
    const hr = await helmRelease();
    expect(hr?.status.history[0]).toMatchObject({ status: 'deployed', version: 2 });
  });

  it('upgrades to a newer flux template, and refuses one of another backend', async () => {
    const helmTemplate = await api.http
      .post(`/products/${productId}/templates`)
      .set(admin)
      .send({ version: '2.0.0', ...exampleChart('1.1.0') })
      .expect(201);
    const refused = await api.http.post(`/users/${userId}/deployments/${d.id}/upgrade`).set(admin).send({ templateId: helmTemplate.body.id }).expect(409);
    expect(JSON.stringify(refused.body)).toMatch(/keeps its release backend/);

    await api.http.post(`/users/${userId}/deployments/${d.id}/upgrade`).set(admin).send({ templateId: templates['1.1.0'] }).expect(202);
    const upgraded = await waitForStatus(api, userId, d.id, ready(3));
    expect(upgraded).toMatchObject({ appliedTemplateId: templates['1.1.0'], lastError: null });
    const hr = await helmRelease();
    expect(hr?.status.history[0]).toMatchObject({ status: 'deployed', version: 3, chartVersion: '1.1.0' });
  });

  it('holds the HelmRelease while suspended (helm-controller corrects nothing), and a resume lifts the hold and corrects', async () => {
    await api.http.post(`/users/${userId}/deployments/${d.id}/suspend`).set(admin).send({ reason: 'maintenance' }).expect(202);
    await poll('the HelmRelease suspended', helmRelease, (hr) => hr?.spec.suspend === true, 60_000, 250);
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
    // helm-controller reconciles every 5 s here; three of its intervals pass without a correction.
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await configMap()).toBeUndefined();

    await api.http.post(`/users/${userId}/deployments/${d.id}/resume`).set(admin).expect(202);
    await poll('the hold lifted', helmRelease, (hr) => hr?.spec.suspend === false, 60_000, 250);
    await poll('the ConfigMap back', configMap, (cm) => cm?.data?.title === 'Changed by Flux', 60_000, 250);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'ready');
  });

  it("fails for good, with the registry's answer, when the pinned digest is not there, and still deletes", async () => {
    const t = await api.http.get(`/products/${productId}/templates/${templates['1.0.0']}`).set(admin).expect(200);
    const { defaultValues, valuesSchema } = exampleChart('1.0.0');
    const wrong = await api.http
      .post(`/products/${productId}/templates`)
      .set(admin)
      .send({ version: '0.0.1', chartRef: t.body.chartRef, chartVersion: '1.0.0', chartDigest: `sha256:${'0'.repeat(64)}`, defaultValues, valuesSchema, capabilities: { backend: 'flux' } })
      .expect(201);
    const res = await api.http
      .post(`/users/${userId}/deployments`)
      .set(admin)
      .send({ templateId: wrong.body.id, domainName: `${uniqueName('flux')}.example.com` })
      .expect(202);
    const failed = await waitForStatus(api, userId, res.body.id, (x) => x.status === 'error', 180_000);
    expect(failed.lastError).toMatch(/flux: .*manifest unknown/i);
    expect((await events(api, userId, res.body.id)).filter((e) => e.type === 'error')).toHaveLength(1);
    await api.http.delete(`/users/${userId}/deployments/${res.body.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, res.body.id, (x) => x.status === 'deleted', 300_000);
  });

  it('deletes: helm-controller uninstalls the release, then the namespace goes', async () => {
    await api.http.delete(`/users/${userId}/deployments/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 300_000);
    expect(await kube.getNamespace(d.deploymentUid)).toBeUndefined();
    const types = (await events(api, userId, d.id)).map((e) => e.type);
    expect(types).not.toContain('error');
  });
});
