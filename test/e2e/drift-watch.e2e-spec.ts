/**
 * Drift found by watching, not by polling (issue 17 §3), on the local stack: with the periodic
 * check an hour away, a manual change to a release (a deleted ConfigMap, a scaled Deployment) is
 * corrected within seconds, so only the cluster watcher can have triggered it. Prints the time
 * from each change to its correction.
 */
import { INestApplicationContext } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { DeploymentWorkflowState, stateQuery, watcherWorkflowIdFor, workflowIdFor } from '../../libs/orchestration/src/contract';
import { ChangeFilter } from '../../libs/orchestration/src/watcher/change-filter';
import { KubeClient, KubeObject } from '../../libs/platform/src';
import { bearer, uniqueName } from '../support/api';
import { connectTemporal, E2eSuite, startSuite } from '../support/e2e';
import { events, poll, seedCatalog, Seeded, startWorker, waitForStatus } from '../support/lifecycle';

const SAMPLES = 6;
/** Corrections must come well before anything but the watcher could have triggered them. */
const WITHIN_MS = 10_000;

describe('drift found by the cluster watcher (e2e)', () => {
  let suite: E2eSuite;
  let worker: INestApplicationContext;
  let kube: KubeClient;
  let temporal: Client;
  let seed: Seeded;
  let d: { id: string; deploymentUid: string };

  const state = () => temporal.workflow.getHandle(workflowIdFor(d.deploymentUid)).query(stateQuery);
  const configMap = () => kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
  const deployment = () => kube.get<KubeObject & { spec?: { replicas?: number } }>({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.deploymentUid, namespace: d.deploymentUid });
  /** The workflow is idle: waiting, with no check running. */
  const idle = () => poll('the workflow waiting', state, (s: DeploymentWorkflowState) => s.waitingFor !== null, 30_000, 100);

  beforeAll(async () => {
    suite = await startSuite({ CAELUS_DRIFT_INTERVAL: '3600', CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    temporal = (await connectTemporal())!;
    seed = await seedCatalog(suite.api, uniqueName('watched'), ['1.0.0']);
  });

  afterAll(async () => {
    if (d) {
      await suite.api.http.delete(`/users/${seed.userId}/deployments/${d.id}`).set(bearer(seed.userToken));
      await waitForStatus(suite.api, seed.userId, d.id, (x) => x.status === 'deleted', 120_000).catch(() => undefined);
    }
    await worker?.close();
    await temporal?.connection.close();
    await suite?.close();
  });

  it('runs one cluster watcher for the task queue, whose heartbeating activity is started', async () => {
    const watcher = temporal.workflow.getHandle(watcherWorkflowIdFor(suite.api.taskQueue));
    const described = await poll(
      'the watcher activity started',
      () => watcher.describe(),
      (x) => x.status.name === 'RUNNING' && (x.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'watchCluster' && Number(a.state) === 2),
      60_000,
      250,
    );
    expect(described.type).toBe('clusterWatcherWorkflow');
  });

  it('creates a deployment whose safety-net check is up to an hour away', async () => {
    const res = await suite.api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(bearer(seed.userToken))
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('watched')}.example.com`, values: { title: 'Watched', adminPassword: 'Sup3r-s3cret-admin-pw' } })
      .expect(202);
    d = res.body;
    await waitForStatus(suite.api, seed.userId, d.id, (x) => x.status === 'ready' && x.observedGeneration === 1);
    const s = await idle();
    expect(Date.parse(s.nextDriftCheckAt!) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(s.nextDriftCheckAt!) - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it("takes helm's release Secrets, as the real helm writes them (field manager Helm), for the apply's echo, not a change", async () => {
    // The metadata the watcher's release-Secret watch sees; before the filter knew `Helm`, each
    // write of them sent the deployment a 'changed' drift signal and a check after every apply.
    const stored = await kube.listSecretMetadata(d.deploymentUid, `owner=helm,name=${d.deploymentUid}`);
    expect(stored.length).toBeGreaterThan(0);
    const filter = new ChangeFilter();
    expect(stored.map((secret) => filter.changed('ADDED', secret))).toEqual(stored.map(() => undefined));
    expect(stored.map((secret) => filter.changed('MODIFIED', { ...secret, metadata: { ...secret.metadata, resourceVersion: `${secret.metadata.resourceVersion}0` } }))).toEqual(
      stored.map(() => undefined),
    );
  });

  it(`corrects a deleted ConfigMap and a scaled Deployment within seconds (${SAMPLES} samples), on the watcher's signal`, async () => {
    // Binding the chart's PersistentVolumeClaim (controllers' writes) still reaches the workflow as a signal and a check: let it settle.
    await new Promise((r) => setTimeout(r, 3000));
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      await idle();
      const before = (await state()).nextDriftCheckAt;
      const t0 = Date.now();
      if (i % 2 === 0) {
        await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
        await poll('ConfigMap back', configMap, (cm) => cm?.data?.title === 'Watched', WITHIN_MS, 50);
      } else {
        await kube.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.deploymentUid, namespace: d.deploymentUid }, { spec: { replicas: 3 } });
        await poll('replicas back to 1', deployment, (dep) => dep?.spec?.replicas === 1, WITHIN_MS, 50);
      }
      latencies.push(Date.now() - t0);
      const after = await state();
      expect(after.lastDriftCheck?.trigger).toBe('watcher');
      // The safety net did not fire: its timer is where it was.
      expect(after.nextDriftCheckAt).toBe(before);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(`[drift-watch] change → correction, ms: ${latencies.join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)})\n`);
    expect(Math.max(...latencies)).toBeLessThan(WITHIN_MS);

    const evs = await events(suite.api, seed.userId, d.id);
    const detected = evs.filter((e) => e.type === 'drift-detected').flatMap((e) => (e.data.objects as { kind: string; reason: string }[]) ?? []);
    expect(detected).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'ConfigMap', reason: 'missing' }), expect.objectContaining({ kind: 'Deployment', reason: 'modified' })]));
    expect(evs.filter((e) => e.type === 'drift-corrected').length).toBeGreaterThanOrEqual(SAMPLES);
  });

  it('stays idle between changes: no check runs while nothing changes', async () => {
    await idle();
    await new Promise((r) => setTimeout(r, 3000));
    const last = (await state()).lastDriftCheck;
    await new Promise((r) => setTimeout(r, 5000));
    const now = await state();
    expect(now.lastDriftCheck).toEqual(last);
    expect(now.waitingFor).not.toBeNull();
  });
});
