/**
 * What the worker hands its child processes, what it leaves on disk and what its tenants may
 * reach, with the built worker (`dist/`) in a process of its own, as in production:
 * - helm runs with a minimal environment: the worker's encryption key, database URL and admin
 *   token never reach it (HELM_BIN is a script that records its environment and then runs the
 *   real helm);
 * - a worker killed during a helm step leaves that step's values file behind, and the next worker
 *   removes it when it starts (but not the directory of a process still running);
 * - the tenant namespace carries the egress NetworkPolicies with the configured ranges. KWOK
 *   enforces no network policy: this checks the objects the API server stores.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../libs/platform/src';
import { bearer, startTestApi, TestApi, uniqueName } from '../support/api';
import { poll, REPO, seedCatalog, Seeded, waitForStatus } from '../support/lifecycle';

const work = mkdtempSync(join(tmpdir(), 'caelus-hygiene-e2e-'));
/** The workers' TMPDIR: their values directories land here, apart from every other test's. */
const workerTmp = join(work, 'tmp');
const records = join(work, 'env');
const bin = join(work, 'bin');
/** Made by the hanging helm once `upgrade` has started (its values file written). */
const hanging = join(work, 'hanging');

/** A helm that writes its environment (NUL-separated) to a file, then is the real helm, or hangs in `upgrade`. */
function helmWrapper(name: string, hangOnUpgrade: boolean): string {
  const path = join(bin, name);
  const hang = hangOnUpgrade ? `if [ "$1" = upgrade ]; then : > "${hanging}"; exec sleep 600; fi\n` : '';
  writeFileSync(path, `#!/bin/sh\nenv -0 > "${records}/$$.env"\n${hang}exec "${process.env.HELM_BIN}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

function recordedEnvironments(): Record<string, string>[] {
  return readdirSync(records).map((f) =>
    Object.fromEntries(
      readFileSync(join(records, f), 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    ),
  );
}

const valuesDirs = () => readdirSync(workerTmp).filter((name) => name.startsWith('caelus-helm-'));

describe('the worker process: child environment, values files left by a kill, tenant egress', () => {
  let api: TestApi;
  let seed: Seeded;
  let kube: KubeClient;
  let worker: ChildProcess | undefined;
  let workerEnv: Record<string, string>;
  let deploymentId: string;
  let deploymentUid: string;
  const encryptionKey = process.env.CAELUS_ENCRYPTION_KEY || readFileSync(join(REPO, '.local', 'encryption.key'), 'utf8').trim();

  function startWorkerProcess(helmBin: string, logName: string): ChildProcess {
    const logDir = join(REPO, '.local', 'logs', 'tests');
    mkdirSync(logDir, { recursive: true });
    const out = openSync(join(logDir, logName), 'a');
    // detached: its own process group, so a kill takes its helm along, as when a pod dies.
    return spawn(process.execPath, [join(REPO, 'dist', 'apps', 'worker', 'src', 'main.js')], {
      cwd: REPO,
      env: { ...process.env, ...workerEnv, HELM_BIN: helmBin },
      detached: true,
      stdio: ['ignore', out, out],
    });
  }

  async function stopWorker(signal: NodeJS.Signals): Promise<void> {
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((r) => worker!.once('exit', r));
    process.kill(-worker.pid!, signal);
    await exited;
  }

  beforeAll(async () => {
    mkdirSync(workerTmp);
    mkdirSync(records);
    mkdirSync(bin);
    execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO, stdio: 'inherit' });
    api = await startTestApi({ CAELUS_DRIFT_INTERVAL: '3600' });
    seed = await seedCatalog(api, uniqueName('hygiene'), ['1.0.0', '1.1.0']);
    kube = new KubeClient({ kubeconfig: process.env.KUBECONFIG! });
    workerEnv = {
      TMPDIR: workerTmp,
      CAELUS_TASK_QUEUE: api.taskQueue,
      CAELUS_SUPERVISOR_INTERVAL: '0',
      CAELUS_WORKER_METRICS_PORT: '0',
      CAELUS_TEMPORAL_METRICS_PORT: '0',
      CAELUS_ADMIN_TOKEN: api.adminToken,
      CAELUS_ENCRYPTION_KEY: encryptionKey,
      DATABASE_URL: process.env.DATABASE_URL!,
      CAELUS_TENANT_EGRESS_ALLOW_CIDRS: '203.0.113.7/32',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await stopWorker('SIGTERM');
    await api?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs helm without the encryption key, the database URL or the admin token', async () => {
    worker = startWorkerProcess(helmWrapper('helm-recording', false), `hygiene-1-${api.taskQueue}.log`);
    const res = await api.http
      .post(`/users/${seed.userId}/deployments`)
      .set(bearer(api.adminToken))
      .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('hygiene')}.example.com`, values: { title: 'Hygiene', adminPassword: 'hygiene-secret-value' } })
      .expect(202);
    deploymentId = res.body.id;
    deploymentUid = res.body.deploymentUid;
    await waitForStatus(api, seed.userId, deploymentId, (d) => d.status === 'ready' && d.observedGeneration === 1);

    const seen = recordedEnvironments();
    expect(seen.length).toBeGreaterThan(0);
    const secrets = [encryptionKey, process.env.DATABASE_URL!, api.adminToken];
    for (const env of seen) {
      expect(Object.keys(env).filter((k) => k.startsWith('CAELUS_') || k.startsWith('TEMPORAL_') || k === 'DATABASE_URL')).toEqual([]);
      for (const secret of secrets) expect(Object.values(env).filter((v) => v.includes(secret))).toEqual([]);
      // What helm needs is still there.
      expect(env).toMatchObject({ PATH: process.env.PATH, TMPDIR: workerTmp, KUBECONFIG: process.env.KUBECONFIG });
      expect(env.HOME).toBeTruthy();
    }
  });

  it('runs the workflow code bundled by the build, without webpack at start-up', () => {
    const log = readFileSync(join(REPO, '.local', 'logs', 'tests', `hygiene-1-${api.taskQueue}.log`), 'utf8');
    expect(log).toContain('workflow code from the prebuilt workflow-bundle.js');
    expect(log).not.toContain('bundling the workflow code at start-up');
  });

  it('gives the tenant namespace egress policies with the configured ranges (stored objects: KWOK enforces none)', async () => {
    const deny = await kube.get({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: 'caelus-default-deny-egress', namespace: deploymentUid });
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'] });
    const allow = await kube.get({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: 'caelus-allow-egress', namespace: deploymentUid });
    const rules = (allow?.spec as { egress: { to?: { ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: unknown }[] }[] }).egress;
    const blocks = rules.flatMap((r) => r.to ?? []).flatMap((p) => (p.ipBlock ? [p.ipBlock] : []));
    expect(blocks).toEqual(expect.arrayContaining([{ cidr: '203.0.113.7/32' }]));
    expect(blocks.find((b) => b.cidr === '0.0.0.0/0')?.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16']));
    expect(rules.flatMap((r) => r.to ?? []).filter((p) => p.namespaceSelector)).toEqual([]);
  });

  it("removes at start the values file a killed worker left, and keeps a running process's", async () => {
    await stopWorker('SIGTERM');
    expect(valuesDirs()).toEqual([]);
    worker = startWorkerProcess(helmWrapper('helm-hanging', true), `hygiene-2-${api.taskQueue}.log`);
    await api.http.post(`/users/${seed.userId}/deployments/${deploymentId}/upgrade`).set(bearer(api.adminToken)).send({ templateId: seed.templates['1.1.0'] }).expect(202);
    await poll('helm upgrade running', async () => existsSync(hanging), Boolean, 120_000, 200);
    const [left, ...more] = valuesDirs();
    expect(more).toEqual([]);
    await stopWorker('SIGKILL');
    // The premise: the killed worker's step never reached its finally.
    expect(existsSync(join(workerTmp, left, 'values.json'))).toBe(true);
    // A directory of a process that still runs (this one) belongs to a worker sharing /tmp.
    const running = join(workerTmp, `caelus-helm-${process.pid}-00000000-Live00`);
    mkdirSync(running);

    worker = startWorkerProcess(helmWrapper('helm-recording-2', false), `hygiene-3-${api.taskQueue}.log`);
    await poll(
      'the stale values directory removed',
      async () => existsSync(join(workerTmp, left)),
      (exists) => !exists,
      60_000,
      200,
    );
    expect(existsSync(running)).toBe(true);
    rmSync(running, { recursive: true });

    // The new worker then finishes the upgrade, and its own values files are gone after each step.
    await waitForStatus(api, seed.userId, deploymentId, (d) => d.status === 'ready' && d.observedGeneration === 2, 300_000);
    expect(valuesDirs()).toEqual([]);
    await api.http.delete(`/users/${seed.userId}/deployments/${deploymentId}`).set(bearer(api.adminToken)).expect(202);
    await waitForStatus(api, seed.userId, deploymentId, (d) => d.status === 'deleted', 180_000);
  });
});
