/**
 * A worker killed in the middle of a rollout's wave (SIGKILL of its process group, as when its pod
 * dies) loses nothing: a new worker continues the rollout where it was, every member is upgraded
 * exactly once, and the rollout succeeds. The worker runs as the built app (`dist/`), in a child
 * process, the way it runs in production (like worker-crash.e2e-spec.ts).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, poll, REPO, seedCatalog, Seeded, waitForStatus } from '../support/lifecycle';

const FLEET = 6;

function startWorkerProcess(env: Record<string, string>, logName: string): ChildProcess {
  const logDir = join(REPO, '.local', 'logs', 'tests');
  mkdirSync(logDir, { recursive: true });
  const out = openSync(join(logDir, logName), 'a');
  return spawn(process.execPath, [join(REPO, 'dist', 'apps', 'worker', 'src', 'main.js')], { cwd: REPO, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', out, out] });
}

describe('a worker killed during a rollout wave', () => {
  let api: TestApi;
  let seed: Seeded;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO, stdio: 'inherit' });
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '3600' });
    seed = await seedCatalog(api, uniqueName('rkill'), ['1.0.0', '1.1.0']);
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) process.kill(-worker.pid!, 'SIGTERM');
    await api?.close();
  });

  it('continues where it was after a SIGKILL, upgrading every member once', async () => {
    const env = { CAELUS_SUPERVISOR_INTERVAL: '0', CAELUS_TASK_QUEUE: api.taskQueue, CAELUS_ADMIN_TOKEN: api.adminToken, DATABASE_URL: process.env.DATABASE_URL!, LOG_LEVEL: 'info' };
    worker = startWorkerProcess(env, `rollout-kill-1-${api.taskQueue}.log`);
    const admin = bearer(api.adminToken);
    const ids: string[] = [];
    for (let i = 0; i < FLEET; i++) {
      const res = await api.http
        .post(`/users/${seed.userId}/deployments`)
        .set(bearer(seed.userToken))
        .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('rkill')}.example.com`, values: { title: `k${i}` } })
        .expect(202);
      ids.push(res.body.id);
    }
    await Promise.all(ids.map((id) => waitForStatus(api, seed.userId, id, (x) => x.status === 'ready' && x.observedGeneration === 1)));

    const path = `/products/${seed.productId}/rollouts`;
    const r = (
      await api.http
        .post(path)
        .set(admin)
        .send({ toTemplateId: seed.templates['1.1.0'], waves: [1, '100%'], healthTimeoutSeconds: 300 })
        .expect(202)
    ).body;
    const get = async () => (await api.http.get(`${path}/${r.id}`).set(admin).expect(200)).body;
    // Kill while wave 2's members are being upgraded.
    await poll('wave 2 upgrading', get, (x) => x.currentWave === 2 && x.waveCounts[1].upgrading > 0, 180_000, 100);
    process.kill(-worker.pid!, 'SIGKILL');
    const atKill = await get();
    await new Promise((res) => setTimeout(res, 3000));
    expect((await get()).updatedAt).toBe(atKill.updatedAt);

    worker = startWorkerProcess(env, `rollout-kill-2-${api.taskQueue}.log`);
    const done = await poll('the rollout to end', get, (x) => x.status !== 'running', 300_000, 500);
    expect(done).toMatchObject({ status: 'succeeded', total: FLEET, currentWave: 2 });
    expect(done.waveCounts.map((w: { upgraded: number }) => w.upgraded)).toEqual([1, FLEET - 1]);
    expect(done.events.filter((e: { type: string }) => e.type === 'wave-started')).toHaveLength(2);
    for (const id of ids) {
      const evs = await events(api, seed.userId, id);
      expect(evs.filter((e) => e.type === 'upgrade-requested')).toHaveLength(1);
      expect(evs.filter((e) => e.type === 'rollout-upgraded')).toHaveLength(1);
    }
  }, 600_000);
});
