/**
 * A worker killed in the middle of `helm upgrade` (the whole process group, as when its pod
 * dies) must not stop the deployment from converging, and must not leave the release pending.
 * The worker runs as the built app (`dist/`), in a child process, the way it runs in production.
 *
 * On kwok an upgrade's new pod is ready within a second or two, too short a moment to catch
 * reliably; a second ResourceQuota that admits no pods holds the rollout (and so `helm --wait`)
 * until the test lifts it, after the kill.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { HelmReleaseStorage, KubeClient } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { events, poll, REPO, seedCatalog, Seeded, waitForStatus } from '../support/lifecycle';

function startWorkerProcess(env: Record<string, string>, logName: string): ChildProcess {
  const logDir = join(REPO, '.local', 'logs', 'tests');
  mkdirSync(logDir, { recursive: true });
  const out = openSync(join(logDir, logName), 'a');
  // detached: its own process group, so a kill takes helm down with it.
  return spawn(process.execPath, [join(REPO, 'dist', 'apps', 'worker', 'src', 'main.js')], {
    cwd: REPO,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', out, out],
  });
}

function helmRunningFor(release: string): boolean {
  try {
    const out = execFileSync('pgrep', ['-af', `upgrade --install ${release}`], { encoding: 'utf8' });
    return out.split('\n').some((l) => l.includes('helm') && l.includes(release));
  } catch {
    return false;
  }
}

describe('a worker killed during helm upgrade', () => {
  let api: TestApi;
  let seed: Seeded;
  let kube: KubeClient;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO, stdio: 'inherit' });
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '3600' });
    seed = await seedCatalog(api, uniqueName('crash'), ['1.0.0', '1.1.0']);
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) process.kill(-worker.pid!, 'SIGTERM');
    await api?.close();
  });

  it('converges after a SIGKILL mid-upgrade, with no release left pending', async () => {
    const env = { CAELUS_SUPERVISOR_INTERVAL: '0', CAELUS_TASK_QUEUE: api.taskQueue, CAELUS_ADMIN_TOKEN: api.adminToken, DATABASE_URL: process.env.DATABASE_URL!, LOG_LEVEL: 'info' };
    worker = startWorkerProcess(env, `worker-crash-1-${api.taskQueue}.log`);
    const admin = bearer(api.adminToken);
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(admin)
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('crash')}.example.com`, values: { title: 'Crash' } })
      .expect(202);
    const d = res.body;
    await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'ready' && x.observedGeneration === 1);

    // Hold the upgrade's rollout: no new pod is admitted while this quota exists.
    const hold = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'worker-crash-hold', namespace: d.deploymentUid }, spec: { hard: { pods: '0' } } };
    await kube.apply(hold);
    await api.http.post(`/users/${seed.userId}/deployments/${d.id}/upgrade`).set(admin).send({ templateId: seed.templates['1.1.0'] }).expect(202);
    // Kill while helm holds the release in pending-upgrade (it is waiting for the new pods).
    const storage = new HelmReleaseStorage(kube);
    await poll(
      'helm upgrade holding the release',
      async () => helmRunningFor(d.deploymentUid) && (await storage.latest(d.deploymentUid, d.deploymentUid))?.status === 'pending-upgrade',
      Boolean,
      120_000,
      200,
    );
    process.kill(-worker.pid!, 'SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    const stuck = await storage.latest(d.deploymentUid, d.deploymentUid);
    expect(stuck?.status).toBe('pending-upgrade');
    await kube.delete({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'worker-crash-hold', namespace: d.deploymentUid });

    worker = startWorkerProcess(env, `worker-crash-2-${api.taskQueue}.log`);
    const after = await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'ready' && x.observedGeneration === 2, 300_000);
    expect(after).toMatchObject({ appliedTemplateId: seed.templates['1.1.0'] });
    const latest = await storage.latest(d.deploymentUid, d.deploymentUid);
    expect(latest?.status).toBe('deployed');
    expect(latest?.chartVersion).toBe('1.1.0');
    expect((await events(api, seed.userId, d.id)).some((e) => e.type === 'unlocked')).toBe(true);

    await api.http.delete(`/users/${seed.userId}/deployments/${d.id}`).set(admin).expect(202);
    await waitForStatus(api, seed.userId, d.id, (x) => x.status === 'deleted', 180_000);
  });
});
