/**
 * The tenant acts as its own ServiceAccount, bound by a RoleBinding in its namespace. Someone with
 * cluster rights may remove either by hand (or the whole namespace): the deployment must not stay
 * broken. Postgres is the source of truth, so the next drift check puts the guard rails back and
 * the release converges again.
 */
import { INestApplicationContext } from '@nestjs/common';
import { KubeClient, TENANT_ROLE_BINDING } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

describe('guard rails removed by hand', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let seed: Seeded;

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    seed = await seedCatalog(api, uniqueName('rails'), ['1.0.0']);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  const create = async () => {
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(bearer(seed.userToken))
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('rails')}.example.com`, values: { title: 'Rails' } })
      .expect(202);
    await waitForStatus(api, seed.userId, res.body.id, (d) => d.status === 'ready' && d.observedGeneration === 1);
    return res.body as { id: string; deploymentUid: string };
  };
  const configMap = (ns: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: `${ns}-config`, namespace: ns });

  it('puts back a deleted tenant RoleBinding, then corrects drift as the tenant again', async () => {
    const d = await create();
    const ns = d.deploymentUid;
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: TENANT_ROLE_BINDING, namespace: ns };
    await kube.delete(binding);
    await kube.delete(configMap(ns));
    await poll(
      'RoleBinding and ConfigMap back',
      async () => ({ binding: await kube.get(binding), cm: await kube.get(configMap(ns)) }),
      (x) => !!x.binding && !!x.cm,
      90_000,
    );
    const after = await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'ready' && x.lastError === null, 60_000);
    expect(after.observedGeneration).toBe(1);
  });

  it('recreates a namespace deleted by hand, with its release', async () => {
    const d = await create();
    const ns = d.deploymentUid;
    const before = await kube.getNamespace(ns);
    await kube.deleteNamespace(ns);
    const back = await poll(
      'namespace recreated with its release',
      async () => ({ ns: await kube.getNamespace(ns), cm: await kube.get(configMap(ns)) }),
      (x) => !!x.ns && !x.ns.metadata.deletionTimestamp && x.ns.metadata.uid !== before?.metadata.uid && !!x.cm,
      180_000,
    );
    expect(back.ns?.metadata.labels?.['caelus.dev/deployment-uid']).toBe(ns);
    await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'ready' && x.lastError === null, 60_000);
  });
});
