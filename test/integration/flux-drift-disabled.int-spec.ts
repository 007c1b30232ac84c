/**
 * The Flux backend with helm-controller's drift detection turned off by the operator
 * (`CAELUS_FLUX_DRIFT_DETECTION=disabled`, `npm run test:flux`): the HelmReleases say so,
 * helm-controller leaves a deleted object alone on its own reconciles, and Caelus's drift check
 * alone finds and corrects it. Nothing faked.
 */
import { INestApplicationContext } from '@nestjs/common';
import { ensureStack } from '../../scripts/stack';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, poll, seedCatalog, startWorker, waitForStatus } from '../support/lifecycle';

jest.setTimeout(600_000);

describe('the Flux release backend with helm-controller’s drift detection disabled', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let admin: Record<string, string>;
  let templateId: string;
  let userId: string;
  let d: { id: string; deploymentUid: string };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = KubeObject & Record<string, any>;
  const helmRelease = () => kube.get<Loose>({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', name: d.deploymentUid, namespace: d.deploymentUid });
  const configMap = () => kube.get<Loose>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
  const lastCheck = async () => (await api.http.get(`/users/${userId}/deployments/${d.id}`).set(admin)).body.lastDriftCheckAt as string | null;

  beforeAll(async () => {
    await ensureStack({ only: ['flux'], log: () => undefined });
    // helm-controller reconciles every 5 s; Caelus checks every 30 s, without the cluster watcher,
    // so a change made right after one of Caelus's checks meets several of helm-controller's reconciles first.
    api = await startTestApi({ CAELUS_FLUX_DRIFT_DETECTION: 'disabled', CAELUS_DRIFT_INTERVAL: '30', CAELUS_DRIFT_WATCH: 'false', CAELUS_FLUX_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '180' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    admin = bearer(api.adminToken);
    ({
      templates: { '1.0.0': templateId },
      userId,
    } = await seedCatalog(api, uniqueName('fluxnodrift'), ['1.0.0'], 'flux'));
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('projects HelmReleases with drift detection disabled', async () => {
    const res = await api.http
      .post(`/users/${userId}/deployments`)
      .set(admin)
      .send({ templateId, domainName: `${uniqueName('fluxnodrift')}.example.com`, values: { title: 'Caelus alone' } })
      .expect(202);
    d = res.body;
    await waitForStatus(api, userId, d.id, (x) => x.status === 'ready' && x.observedGeneration === 1);
    expect((await helmRelease())?.spec.driftDetection).toEqual({ mode: 'disabled' });
  });

  it('leaves drift to Caelus: helm-controller does not restore a deleted ConfigMap, Caelus’s next check does', async () => {
    const first = await poll('a drift check', lastCheck, (at) => at !== null, 60_000, 250);
    const after = await poll('the next drift check', lastCheck, (at) => at !== first, 60_000, 100);
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
    // Three of helm-controller's intervals, well before Caelus's next check (30 s after the last).
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await configMap()).toBeUndefined();
    expect(await lastCheck()).toBe(after);

    await poll('Caelus restoring the ConfigMap', configMap, (cm) => cm?.data?.title === 'Caelus alone', 60_000, 250);
    const evs = await poll(
      "Caelus's correction in the events",
      () => events(api, userId, d.id),
      (list) => list.some((e) => e.type === 'drift-corrected'),
      30_000,
    );
    const corrections = evs.filter((e) => e.type === 'drift-corrected');
    expect(corrections.every((e) => e.actor === 'workflow')).toBe(true);
    expect(corrections.at(-1)?.message).toContain(`ConfigMap/${d.deploymentUid}-config`);
    expect(evs.filter((e) => e.actor === 'flux')).toEqual([]);
  });

  it('deletes as with drift detection on', async () => {
    await api.http.delete(`/users/${userId}/deployments/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, userId, d.id, (x) => x.status === 'deleted', 300_000);
    expect(await kube.getNamespace(d.deploymentUid)).toBeUndefined();
    expect((await events(api, userId, d.id)).map((e) => e.type)).not.toContain('error');
  });
});
