/**
 * Tenant confinement on the local stack: an admin-published chart whose template takes a
 * ConfigMap's namespace from a schema-valid user value, renders a ClusterRole behind a user flag
 * and a hook in a user-chosen namespace. Each is refused before anything is applied: the
 * deployment ends `error` with a lastError naming the object and the rule, an event records it,
 * it is not retried, and nothing exists outside its namespace. Safe values make it ready again.
 * A namespaced Role (which the confinement check allows) is forbidden by the API server: helm
 * acts as the namespace's tenant ServiceAccount, not with the worker's own rights. A tampered
 * release Secret is not trusted: the drift check reports the rule it breaks and corrects nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, poll, REPO, startWorker, waitForStatus } from '../support/lifecycle';

const CHART = join(REPO, 'charts', 'examples', 'webapp-escape-1.0.0');

type Deployment = { id: string; deploymentUid: string; status: string; generation: number; observedGeneration: number; lastError: string | null };

describe('tenant confinement (end to end)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let admin: Record<string, string>;
  let userId: string;
  let templateId: string;
  // Another tenant's namespace, made by the test: nothing of the escape chart may land here.
  const victim = uniqueName('victim');

  const base = () => `/users/${userId}/deployments`;
  const create = async (user: Record<string, unknown>): Promise<Deployment> =>
    (
      await api.http
        .post(base())
        .set(admin)
        .send({ templateId, domainName: `${uniqueName('esc')}.example.com`, values: user })
        .expect(202)
    ).body;
  const update = async (d: Deployment, user: Record<string, unknown>) => (await api.http.put(`${base()}/${d.id}`).set(admin).send({ values: user }).expect(202)).body as Deployment;
  type Observed = Pick<Deployment, 'status' | 'generation' | 'observedGeneration' | 'lastError'>;
  // A failed generation is not observed: the status and lastError say it failed.
  const failedAt = (generation: number) => (d: Observed) => d.status === 'error' && d.generation === generation && d.lastError !== null;
  const readyAt = (generation: number) => (d: Observed) => d.status === 'ready' && d.observedGeneration === generation;
  const configMapsIn = async (namespace: string) => (await kube.list('v1', 'ConfigMap', { namespace })).filter((c) => c.metadata.labels?.['app.kubernetes.io/name'] === 'webapp-escape');

  /** No retry storm: over a few seconds the refused generation gets no further attempt. */
  const expectNoRetry = async (d: Deployment) => {
    const before = (await events(api, userId, d.id)).filter((e) => e.type === 'error').length;
    await new Promise((r) => setTimeout(r, 8_000));
    const after = await events(api, userId, d.id);
    expect(after.filter((e) => e.type === 'error')).toHaveLength(before);
    expect(after.filter((e) => e.type === 'applied')).toHaveLength(0);
  };

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '60' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: victim } });
    admin = bearer(api.adminToken);
    const product = await api.http
      .post('/products')
      .set(admin)
      .send({ name: uniqueName('escape') })
      .expect(201);
    const template = await api.http
      .post(`/products/${product.body.id}/templates`)
      .set(admin)
      .send({
        version: '1.0.0',
        chartRef: CHART,
        chartVersion: '1.0.0',
        defaultValues: parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')),
        valuesSchema: JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')),
      })
      .expect(201);
    templateId = template.body.id;
    const user = await api.http
      .post('/users')
      .set(admin)
      .send({ email: `${uniqueName('tenant')}@example.com` })
      .expect(201);
    userId = user.body.id;
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await kube?.deleteNamespace(victim).catch(() => undefined);
  });

  it('refuses a ConfigMap in another tenant’s namespace, then gets ready on safe values', async () => {
    const d = await create({ title: 'Escape', configNamespace: victim });
    const failed = await waitForStatus(api, userId, d.id, failedAt(1), 120_000);
    expect(failed.lastError).toContain(`ConfigMap "${d.deploymentUid}-config" in namespace "${victim}"`);
    expect(failed.lastError).toContain(`outside namespace "${d.deploymentUid}"`);
    expect(failed.lastError).toContain("rule: every object must be in the deployment's namespace");
    expect(failed.lastError).toContain('nothing applied');
    const evs = await events(api, userId, d.id);
    expect(evs.filter((e) => e.type === 'error').map((e) => e.message)).toEqual([failed.lastError]);
    expect(evs.find((e) => e.type === 'error')?.data).toMatchObject({ retryable: false });
    await expectNoRetry(d);
    expect(await configMapsIn(victim)).toEqual([]);
    // Refused before helm wrote anything: not even a release record.
    expect(await kube.listSecrets(d.deploymentUid, `owner=helm,name=${d.deploymentUid}`)).toEqual([]);

    await update(d, { title: 'Safe', configNamespace: '' });
    await waitForStatus(api, userId, d.id, readyAt(2), 120_000);
    expect((await configMapsIn(d.deploymentUid)).map((c) => c.metadata.name)).toEqual([`${d.deploymentUid}-config`]);
    expect(await configMapsIn(victim)).toEqual([]);

    // The namespace got the tenant identity helm acted as.
    const sa = await kube.get({ apiVersion: 'v1', kind: 'ServiceAccount', name: 'caelus-tenant', namespace: d.deploymentUid });
    expect(sa).toBeDefined();
    const binding = await kube.get<KubeObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      name: 'caelus-tenant',
      namespace: d.deploymentUid,
    });
    expect(binding?.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'caelus-tenant' });
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'caelus-tenant', namespace: d.deploymentUid }]);

    // An upgrade to bad values is refused too, and leaves the deployed revision in place.
    await update(d, { title: 'Again', configNamespace: victim });
    const again = await waitForStatus(api, userId, d.id, failedAt(3), 120_000);
    expect(again.lastError).toContain(`in namespace "${victim}"`);
    expect(await configMapsIn(victim)).toEqual([]);
    const cm = await kube.get<KubeObject & { data: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
    expect(cm?.data.title).toBe('Safe');

    await api.http.delete(`${base()}/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 180_000);
  });

  it('refuses a cluster-scoped ClusterRole and creates none', async () => {
    const d = await create({ title: 'Cluster', clusterAccess: true });
    const failed = await waitForStatus(api, userId, d.id, failedAt(1), 120_000);
    expect(failed.lastError).toContain(`ClusterRole "${d.deploymentUid}-escape"`);
    expect(failed.lastError).toContain('cluster-scoped (rule: every object must be of a namespaced kind)');
    await expectNoRetry(d);
    expect(await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: `${d.deploymentUid}-escape` })).toBeUndefined();

    await update(d, { title: 'Cluster', clusterAccess: false });
    await waitForStatus(api, userId, d.id, readyAt(2), 120_000);
    expect(await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: `${d.deploymentUid}-escape` })).toBeUndefined();
    await api.http.delete(`${base()}/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 180_000);
  });

  it('refuses a hook in another namespace before it runs', async () => {
    const d = await create({ title: 'Hook', hookNamespace: victim });
    const failed = await waitForStatus(api, userId, d.id, failedAt(1), 120_000);
    expect(failed.lastError).toContain(`ConfigMap "${d.deploymentUid}-hook" in namespace "${victim}"`);
    expect(failed.lastError).toContain("rule: every object must be in the deployment's namespace");
    await expectNoRetry(d);
    expect(await configMapsIn(victim)).toEqual([]);
    expect(await configMapsIn(d.deploymentUid)).toEqual([]);

    await update(d, { title: 'Hook', hookNamespace: d.deploymentUid });
    await waitForStatus(api, userId, d.id, readyAt(2), 120_000);
    expect((await configMapsIn(d.deploymentUid)).map((c) => c.metadata.name).sort()).toEqual([`${d.deploymentUid}-config`, `${d.deploymentUid}-hook`]);
    expect(await configMapsIn(victim)).toEqual([]);
    await api.http.delete(`${base()}/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 180_000);
  });

  it('runs helm as the tenant ServiceAccount: a Role the tenant ClusterRole does not grant is forbidden by the API server', async () => {
    const d = await create({ title: 'Reader', namespacedRole: true });
    const failed = await waitForStatus(api, userId, d.id, failedAt(1), 120_000);
    expect(failed.lastError).toMatch(/forbidden/i);
    expect(failed.lastError).toContain(`system:serviceaccount:${d.deploymentUid}:caelus-tenant`);
    expect(await kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', name: `${d.deploymentUid}-reader`, namespace: d.deploymentUid })).toBeUndefined();
    await api.http.delete(`${base()}/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 180_000);
  });

  it('does not trust a tampered release Secret: the drift check names the rule it breaks and corrects nothing until it is sound again', async () => {
    const d = await create({ title: 'Stored' });
    await waitForStatus(api, userId, d.id, readyAt(1), 120_000);
    const secretName = `sh.helm.release.v1.${d.deploymentUid}.v1`;
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid };
    // Someone with access to the namespace relabels the release record and removes an object.
    const relabel = (version: string) => kube.mergePatch({ apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: d.deploymentUid }, { metadata: { labels: { version } } });
    await relabel('7');
    await kube.delete(configMap);

    const refused = await poll(
      'an error event about the release Secret',
      async () => events(api, userId, d.id),
      (evs) => evs.some((e) => e.type === 'error' && e.message.includes('is not trusted')),
      60_000,
    );
    const message = refused.find((e) => e.type === 'error' && e.message.includes('is not trusted'))!.message;
    expect(message).toContain(`helm release Secret ${d.deploymentUid}/${secretName} is not trusted`);
    expect(message).toContain('its version label (7) is not the revision it holds (1)');
    // Reported once, not on every tick, and nothing was corrected from the untrusted record.
    await new Promise((r) => setTimeout(r, 12_000));
    const later = await events(api, userId, d.id);
    expect(later.filter((e) => e.type === 'error' && e.message.includes('is not trusted'))).toHaveLength(1);
    expect(later.filter((e) => e.type === 'drift-corrected')).toHaveLength(0);
    expect(await kube.get(configMap)).toBeUndefined();

    // Once the record is sound again, the next check corrects the drift.
    await relabel('1');
    await poll(
      'the ConfigMap restored',
      async () => kube.get(configMap),
      (cm) => cm !== undefined,
      60_000,
    );
    await api.http.delete(`${base()}/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 180_000);
  });

  it('never wrote anything into the other namespace', async () => {
    const all = await kube.list('v1', 'ConfigMap', { namespace: victim });
    expect(all.map((c) => c.metadata.name).filter((n) => n !== 'kube-root-ca.crt')).toEqual([]);
    await poll(
      'nothing else',
      async () => kube.list('v1', 'Secret', { namespace: victim }),
      (s) => s.every((x) => !x.metadata.name.startsWith('sh.helm')),
      5_000,
    );
  });
});
