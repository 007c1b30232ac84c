/**
 * Rollouts gated on health on the local stack (issue 15 §3 with §1): a target version whose pods
 * never become available (the health test chart with `held: true` by default: helm --wait passes,
 * the pod stays Pending) halts the rollout after its first wave, the member failed as degraded and
 * the rest untouched on the old version; a rollout to a healthy version then upgrades every
 * member, each ready and healthy at its new generation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { createUser } from '../support/e2e';
import { events, poll, REPO, startWorker, waitForStatus } from '../support/lifecycle';

const FLEET = 5;
const GRACE_SECONDS = 5;
const CHART = join(REPO, 'charts', 'examples', 'webapp-health-1.0.0');

type Rollout = {
  id: string;
  status: string;
  reason: string | null;
  currentWave: number | null;
  waveCounts: { wave: number; size: number; pending: number; upgrading: number; upgraded: number; failed: number; skipped: number }[];
};
type Health = { status: string; generation: number; reason: string | null };
type Deployment = { id: string; status: string; generation: number; observedGeneration: number; desiredTemplateId: string; appliedTemplateId: string | null; health: Health | null };

describe('rollouts gated on health (e2e)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let admin: Record<string, string>;
  let productId: string;
  let userId: string;
  let owner: Record<string, string>;
  const templates: Record<string, string> = {};

  const rolloutsPath = () => `/products/${productId}/rollouts`;
  const getRollout = async (id: string): Promise<Rollout> => (await api.http.get(`${rolloutsPath()}/${id}`).set(admin).expect(200)).body;
  const getDeployment = async (id: string): Promise<Deployment> => (await api.http.get(`/users/${userId}/deployments/${id}`).set(admin).expect(200)).body;
  const healthyAt = (generation: number) => (d: Deployment) =>
    d.status === 'ready' && d.generation === generation && d.observedGeneration === generation && d.health?.status === 'healthy' && d.health.generation === generation;

  /** A version of the health test chart whose defaults hold the pods or not. */
  async function version(v: string, held: boolean): Promise<void> {
    const defaults = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { user: Record<string, unknown> };
    const res = await api.http
      .post(`/products/${productId}/templates`)
      .set(admin)
      .send({
        version: v,
        chartRef: CHART,
        chartVersion: '1.0.0',
        defaultValues: { ...defaults, user: { ...defaults.user, held } },
        valuesSchema: JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')),
      })
      .expect(201);
    templates[v] = res.body.id;
  }

  beforeAll(async () => {
    api = await startTestApi({ CAELUS_HEALTH_GRACE: String(GRACE_SECONDS), CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    admin = bearer(api.adminToken);
    const name = uniqueName('rollhealth');
    productId = (await api.http.post('/products').set(admin).send({ name }).expect(201)).body.id;
    await version('1.0.0', false);
    await version('1.1.0', true);
    await version('1.2.0', false);
    const user = await createUser(api, 'rollhealth');
    userId = user.id;
    owner = bearer(user.token);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it(`halts after the first wave when the target makes pods unhealthy, leaving the rest untouched; a healthy version then upgrades all ${FLEET}`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < FLEET; i++) {
      const res = await api.http
        .post(`/users/${userId}/deployments`)
        .set(owner)
        .send({ templateId: templates['1.0.0'], domainName: `${uniqueName('rollhealth')}.example.com`, values: { title: `n${i}` } })
        .expect(202);
      ids.push(res.body.id);
    }
    await Promise.all(ids.map((id) => waitForStatus(api, userId, id, healthyAt(1) as never, 240_000)));

    // The unhealthy version: its apply succeeds, its pods stay Pending, the member goes degraded after the grace.
    const started = Date.now();
    const failing = await api.http
      .post(rolloutsPath())
      .set(admin)
      .send({ toTemplateId: templates['1.1.0'], waves: [1, '100%'], healthTimeoutSeconds: 120 })
      .expect(202);
    const halted = await poll(
      'the rollout to halt',
      () => getRollout(failing.body.id),
      (r) => r.status !== 'running',
      240_000,
      500,
    );
    console.log(`the unhealthy rollout halted after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect(halted).toMatchObject({ status: 'failed', currentWave: 1, reason: expect.stringMatching(/1 deployment\(s\) failed/) });
    expect(halted.waveCounts).toEqual([
      { wave: 1, size: 1, pending: 0, upgrading: 0, upgraded: 0, failed: 1, skipped: 0 },
      { wave: 2, size: FLEET - 1, pending: FLEET - 1, upgrading: 0, upgraded: 0, failed: 0, skipped: 0 },
    ]);
    const members = await Promise.all(ids.map(getDeployment));
    const [first, ...rest] = members;
    // The first wave's member was applied (ready at generation 2 as far as helm goes), then judged by its health.
    expect(first).toMatchObject({ status: 'degraded', generation: 2, observedGeneration: 2, appliedTemplateId: templates['1.1.0'], health: { generation: 2 } });
    expect(first.health!.status).not.toBe('healthy');
    const failedEvent = (await events(api, userId, first.id)).find((e) => e.type === 'rollout-failed');
    expect(failedEvent?.message).toMatch(/degraded after the upgrade: Deployment\/.*-web: 0 of 1 replicas available/);
    // The rest: untouched, still on 1.0.0 at generation 1, healthy.
    for (const d of rest) {
      expect(d).toMatchObject({
        status: 'ready',
        generation: 1,
        observedGeneration: 1,
        desiredTemplateId: templates['1.0.0'],
        appliedTemplateId: templates['1.0.0'],
        health: { status: 'healthy', generation: 1 },
      });
      expect((await events(api, userId, d.id)).map((e) => e.type)).not.toContain('upgrade-requested');
    }

    // A healthy version for both the degraded member and the untouched ones: every member upgraded, each healthy at its new generation.
    const healing = await api.http
      .post(rolloutsPath())
      .set(admin)
      .send({ toTemplateId: templates['1.2.0'], fromTemplateIds: [templates['1.0.0'], templates['1.1.0']], waves: [1, '100%'], healthTimeoutSeconds: 120 })
      .expect(202);
    const done = await poll(
      'the healthy rollout to end',
      () => getRollout(healing.body.id),
      (r) => r.status !== 'running',
      240_000,
      500,
    );
    expect(done).toMatchObject({ status: 'succeeded', currentWave: 2 });
    expect(done.waveCounts.map((w) => w.upgraded)).toEqual([1, FLEET - 1]);
    const upgraded = await Promise.all(ids.map(getDeployment));
    expect(upgraded[0]).toMatchObject({ appliedTemplateId: templates['1.2.0'], generation: 3 });
    expect(healthyAt(3)(upgraded[0])).toBe(true);
    for (const d of upgraded.slice(1)) {
      expect(d.appliedTemplateId).toBe(templates['1.2.0']);
      expect(healthyAt(2)(d)).toBe(true);
    }
  });
});
