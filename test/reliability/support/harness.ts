/**
 * The reliability harness: the built worker (and API) as child processes with their output
 * captured, TCP proxies that can refuse connections to fake an outage, a scratch database and
 * task queue per suite, and the checks every fault scenario ends with (converged, no release
 * pending, one workflow per deployment, no lost event).
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket, connect as tcpConnect, AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import request from 'supertest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { HelmReleaseStorage, KubeClient, KubeObject } from '../../../libs/platform/src';
import { exampleChart } from '../../support/lifecycle';
import { bearer, createScratchDatabase, startTestApi, TestApi, uniqueName } from '../../support/api';
import { TestDb } from '../../support/e2e';
import { REPO, seedCatalog, Seeded } from '../../support/lifecycle';

export const LOG_DIR = join(REPO, '.local', 'logs', 'reliability');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- build -------------------------------------------------------------------------------

/**
 * Compiles the apps and bundles the workflow code once per jest run (runInBand: every suite shares
 * process.env). tsc emits even when it reports type errors; those are `npm run typecheck`'s
 * business, so they only warn here.
 */
export async function ensureBuilt(): Promise<void> {
  if (process.env.CAELUS_RELIABILITY_BUILT === '1') return;
  await new Promise<void>((resolve) => {
    execFile(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) process.stderr.write(`[reliability] tsc reported errors (the emitted build is used anyway):\n${stdout.slice(0, 4000)}\n`);
      resolve();
    });
  });
  // The workers start from the prebuilt workflow bundle, as after `npm run build`.
  execFileSync(process.execPath, [join(REPO, 'dist', 'scripts', 'bundle-workflows.js')], { cwd: REPO, stdio: 'ignore' });
  process.env.CAELUS_RELIABILITY_BUILT = '1';
}

// --- child processes ---------------------------------------------------------------------

export interface AppProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** SIGKILL to the whole process group (the app and its helm processes), as when a pod dies. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace time. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

/** Runs a built app (the worker's `dist/apps/worker/src/main.js`, the API through api-on-loopback.js) in its own process group, output to a log file. */
export function startApp(app: 'worker' | 'api', env: Record<string, string>, name: string): AppProcess {
  // The API's own main listens on every interface; these tests stay on loopback.
  const main = app === 'api' ? join(__dirname, 'api-on-loopback.js') : join(REPO, 'dist', 'apps', app, 'src', 'main.js');
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}.log`);
  writeFileSync(logFile, '');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [main], {
    cwd: REPO,
    env: { ...baseEnv(), ...env },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    name,
    logFile,
    child,
    exited,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Helm children left behind by a worker that exited anyway.
      signalGroup('SIGKILL');
    },
    output: () => readFileSync(logFile, 'utf8'),
  };
}

/** What children inherit: this process's environment (the stack's endpoints); callers set the rest explicitly. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // Two workers on one machine must not fight over the metrics ports.
  env.CAELUS_WORKER_METRICS_PORT = '0';
  env.CAELUS_TEMPORAL_METRICS_PORT = '0';
  return env;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface ApiProcess extends AppProcess {
  url: string;
  http: ReturnType<typeof request>;
  adminToken: string;
}

/** The built API in a child process on a free port, ready when /health/live answers. */
export async function startApiProcess(env: Record<string, string>, name: string): Promise<ApiProcess> {
  const port = await freePort();
  const adminToken = `rel-admin-${randomBytes(12).toString('hex')}`;
  const proc = startApp('api', { PORT: String(port), CAELUS_ADMIN_TOKEN: adminToken, CAELUS_RATE_LIMIT: '1000000', ...env }, name);
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`the API exited (${proc.child.exitCode}): ${proc.output().slice(-2000)}`);
    const ok = await fetch(`${url}/health/live`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > end) throw new Error(`the API did not answer on ${url}: ${proc.output().slice(-2000)}`);
    await sleep(300);
  }
  return { ...proc, url, http: request(url), adminToken };
}

// --- TCP proxy -----------------------------------------------------------------------------

/**
 * 127.0.0.1:<port> → target. `refuse()` closes the listener and cuts every open connection, so
 * clients get ECONNREFUSED/ECONNRESET as when the server is down; `restore()` listens again.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  refusing = false;
  connections = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen(0);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.connections += 1;
      const upstream = tcpConnect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async refuse(): Promise<void> {
    this.refusing = true;
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  async restore(): Promise<void> {
    if (!this.refusing) return;
    // The port is ours again at once (SO_REUSEADDR); retry briefly in case it is not.
    for (let i = 0; ; i++) {
      try {
        await this.listen(this.port);
        break;
      } catch (err) {
        if (i > 50) throw err;
        await sleep(100);
      }
    }
    this.refusing = false;
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}

/** A TCP proxy in front of the cluster's API server, and a copy of the kubeconfig that goes through it. */
export async function kubeProxy(kubeconfig: string, name: string): Promise<{ proxy: TcpProxy; kubeconfig: string }> {
  const doc = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  const server = new URL(doc.clusters[0].cluster.server);
  const proxy = await TcpProxy.start(server.hostname, Number(server.port || 443));
  return { proxy, kubeconfig: kubeconfigVia(kubeconfig, `https://${proxy.address}`, name) };
}

/** A copy of a kubeconfig whose cluster server is `server` (e.g. a proxy), written next to the logs. */
export function kubeconfigVia(kubeconfig: string, server: string, name: string): string {
  const doc = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of doc.clusters) c.cluster.server = server;
  mkdirSync(LOG_DIR, { recursive: true });
  const file = join(LOG_DIR, `${name}.kubeconfig.yaml`);
  writeFileSync(file, toYaml(doc), { mode: 0o600 });
  return file;
}

// --- suite context -------------------------------------------------------------------------

export interface Deployment {
  id: string;
  deploymentUid: string;
  domainName: string;
  workflow: { id: string };
}

export interface RelSuite {
  name: string;
  /** The stack's endpoints as they were when the suite started. */
  stack: { TEMPORAL_ADDRESS: string; KUBECONFIG: string };
  api: TestApi;
  db: TestDb;
  dbUrl: string;
  temporal: Client;
  kube: KubeClient;
  storage: HelmReleaseStorage;
  seed: Seeded;
  admin: Record<string, string>;
  /** Environment for a worker of this suite (scratch database, task queue, short timeouts). */
  workerEnv(extra?: Record<string, string>): Record<string, string>;
  workers: AppProcess[];
  startWorker(name: string, extra?: Record<string, string>): AppProcess;
  /** Replaces the in-process API (e.g. with another TEMPORAL_ADDRESS), as a restart would. */
  restartApi(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export interface RelSuiteOptions {
  apiEnv?: Record<string, string>;
  versions?: string[];
}

/** Scratch database, own task queue, the API in-process, the catalogue seeded. */
export async function startRelSuite(name: string, options: RelSuiteOptions = {}): Promise<RelSuite> {
  await ensureBuilt();
  // Read before the API starts: startTestApi puts its overrides into process.env while it runs.
  const stack = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, KUBECONFIG: process.env.KUBECONFIG! };
  const scratch = await createScratchDatabase(`caelus_rel_${name.replace(/[^a-z0-9]/g, '_')}`);
  const taskQueue = `caelus-rel-${name}-${randomBytes(3).toString('hex')}`;
  const apiBase = { DATABASE_URL: scratch.url, CAELUS_TASK_QUEUE: taskQueue, CAELUS_HELM_TIMEOUT: '120' };
  const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
  let api = await startTestApi({ ...apiBase, ...(options.apiEnv ?? {}) });
  const db = await TestDb.connect(scratch.url);
  const temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  const kube = new KubeClient({ kubeconfig: stack.KUBECONFIG });
  const seed = await seedCatalog(api, uniqueName(`rel-${name}`.slice(0, 14)), options.versions ?? ['1.0.0', '1.1.0']);
  const workers: AppProcess[] = [];
  let n = 0;

  const suite: RelSuite = {
    name,
    stack,
    get api() {
      return api;
    },
    db,
    dbUrl: scratch.url,
    temporal,
    kube,
    storage: new HelmReleaseStorage(kube),
    seed,
    get admin() {
      return bearer(api.adminToken);
    },
    workerEnv: (extra = {}) => ({
      DATABASE_URL: scratch.url,
      CAELUS_TASK_QUEUE: taskQueue,
      CAELUS_SUPERVISOR_INTERVAL: '0',
      CAELUS_HELM_TIMEOUT: '120',
      CAELUS_DRIFT_INTERVAL: '3600',
      KUBECONFIG: stack.KUBECONFIG,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
      LOG_LEVEL: 'info',
      ...extra,
    }),
    workers,
    startWorker: (label, extra = {}) => {
      const w = startApp('worker', suite.workerEnv(extra), `${name}-${label}-${++n}-${taskQueue}`);
      workers.push(w);
      return w;
    },
    restartApi: async (env = {}) => {
      await api.close();
      api = await startTestApi({ ...apiBase, ...(options.apiEnv ?? {}), ...env });
    },
    close: async () => {
      await terminateQueue(temporal, taskQueue).catch((err) => process.stderr.write(`[reliability] terminating workflows: ${err}\n`));
      for (const w of workers) await w.stop(5_000);
      // A scenario that failed half-way leaves releases behind: their namespaces go, whatever state they are in.
      const leftovers = await db.query<{ uid: string }>(`select deployment_uid as uid from deployments where status <> 'deleted'`).catch(() => []);
      for (const { uid } of leftovers) await kube.deleteNamespace(uid).catch(() => undefined);
      await connection.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      await api.close().catch(() => undefined);
      await scratch.drop().catch(() => undefined);
    },
  };
  return suite;
}

export async function terminateQueue(temporal: Client, taskQueue: string): Promise<void> {
  for await (const wf of temporal.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
    await temporal.workflow
      .getHandle(wf.workflowId)
      .terminate('reliability suite finished')
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }
}

// --- fleets of deployments -----------------------------------------------------------------

export interface DeploymentView {
  id: string;
  status: string;
  generation: number;
  observedGeneration: number;
  desiredTemplateId: string;
  appliedTemplateId: string | null;
  lastError: string | null;
  values: Record<string, unknown>;
}

export async function createDeployments(
  s: RelSuite,
  count: number,
  values: (i: number) => Record<string, unknown> = (i) => ({ title: `Fleet ${i}` }),
  templateId = s.seed.templates['1.0.0'],
): Promise<Deployment[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await s.api.http
        .post(`/users/${s.seed.userId}/deployments`)
        .set(s.admin)
        .send({ templateId, domainName: `${uniqueName(s.name.slice(0, 10))}.example.com`, values: values(i) });
      if (res.status !== 202) throw new Error(`create ${i}: ${res.status} ${res.text}`);
      return res.body as Deployment;
    }),
  );
}

export async function getDeployment(s: RelSuite, d: Deployment): Promise<DeploymentView> {
  const res = await s.api.http.get(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin);
  if (res.status !== 200) throw new Error(`get ${d.id}: ${res.status} ${res.text}`);
  return res.body;
}

/** Waits until every deployment satisfies ok (polled together; on timeout the laggards are named). */
export async function waitAll(s: RelSuite, fleet: Deployment[], what: string, ok: (d: DeploymentView) => boolean, timeoutMs = 300_000): Promise<DeploymentView[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(fleet.map((d) => getDeployment(s, d)));
    if (all.every(ok)) return all;
    if (Date.now() > end) {
      const laggards = all.filter((d) => !ok(d)).map((d) => `${d.id} ${d.status} ${d.observedGeneration}/${d.generation} ${d.lastError ?? ''}`);
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${fleet.length} deployments: ${what}; not there: ${laggards.join(' | ').slice(0, 3000)}`);
    }
    await sleep(2000);
  }
}

export const readyAt = (generation: number) => (d: DeploymentView) => d.status === 'ready' && d.observedGeneration === generation && d.generation === generation;

/** Every revision Secret of the releases, by status label: none may be pending-*. */
export async function pendingReleases(s: RelSuite, fleet: Deployment[]): Promise<string[]> {
  const pending: string[] = [];
  for (const d of fleet) {
    const secrets = await s.kube.listSecrets(d.deploymentUid, `owner=helm,name=${d.deploymentUid}`);
    for (const sec of secrets) if (/^pending/.test(sec.metadata.labels?.status ?? '')) pending.push(`${sec.metadata.name}=${sec.metadata.labels?.status}`);
  }
  return pending;
}

/** Releases of the fleet whose newest revision Secret is pending-<op> right now (one cluster-wide list). */
export async function releasesPending(s: RelSuite, fleet: Deployment[], op: 'install' | 'upgrade'): Promise<string[]> {
  const names = new Set(fleet.map((d) => d.deploymentUid));
  const secrets = await s.kube.list<KubeObject>('v1', 'Secret', { labelSelector: `owner=helm,status=pending-${op}` });
  return [...new Set(secrets.map((x) => x.metadata.labels?.name ?? '').filter((n) => names.has(n)))];
}

/** Workflow executions (any status, any run) visibility lists for a deployment, by id and by search attribute. */
export async function workflowRuns(s: RelSuite, d: Deployment): Promise<{ byId: number; byAttribute: number; running: number }> {
  let byId = 0;
  let running = 0;
  for await (const wf of s.temporal.workflow.list({ query: `WorkflowId = "${d.workflow.id}"` })) {
    byId += 1;
    if (wf.status.name === 'RUNNING') running += 1;
  }
  let byAttribute = 0;
  for await (const _ of s.temporal.workflow.list({ query: `CaelusDeploymentId = "${d.id}"` })) byAttribute += 1;
  return { byId, byAttribute, running };
}

export interface EventRow {
  id: string;
  type: string;
  generation: number;
  message: string;
  actor: string;
  data: Record<string, unknown>;
}

export async function allEvents(s: RelSuite, d: Deployment): Promise<EventRow[]> {
  const out: EventRow[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; text: string; body: { items: EventRow[]; nextCursor: string | null } } = await s.api.http
      .get(`/users/${s.seed.userId}/deployments/${d.id}/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
      .set(s.admin);
    if (res.status !== 200) throw new Error(`events ${d.id}: ${res.status} ${res.text}`);
    out.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

export interface ConvergedExpectation {
  generation: number;
  chartVersion: string;
  templateId: string;
  /** Event types that must be present, with the generation each must carry. */
  events: [type: string, generation: number][];
  /** The ConfigMap title each deployment must show (the last values asked for). */
  title?: (i: number) => string;
}

/**
 * The end state every fault scenario must reach: ready at the last generation with the last
 * template, helm's latest revision deployed with that chart and no revision pending, exactly
 * one workflow per deployment, the expected events present, the live ConfigMap carrying the
 * last values. Returns a list of problems (empty when converged) so one message lists them all.
 */
export async function convergenceProblems(s: RelSuite, fleet: Deployment[], want: ConvergedExpectation): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    fleet.map(async (d, i) => {
      const p = (m: string) => problems.push(`${d.deploymentUid}: ${m}`);
      const view = await getDeployment(s, d);
      if (view.status !== 'ready' || view.generation !== want.generation || view.observedGeneration !== want.generation)
        p(`status ${view.status} generation ${view.observedGeneration}/${view.generation}, want ready ${want.generation}`);
      if (view.appliedTemplateId !== want.templateId || view.desiredTemplateId !== want.templateId) p(`template applied ${view.appliedTemplateId} desired ${view.desiredTemplateId}`);
      if (view.lastError) p(`lastError ${view.lastError}`);
      const latest = await s.storage.latest(d.deploymentUid, d.deploymentUid);
      if (latest?.status !== 'deployed' || latest.chartVersion !== want.chartVersion) p(`helm latest ${latest?.status} ${latest?.chartVersion}`);
      const runs = await workflowRuns(s, d);
      if (runs.byId !== 1 || runs.byAttribute !== 1 || runs.running !== 1) p(`workflows ${JSON.stringify(runs)}`);
      const evs = await allEvents(s, d);
      for (const [type, generation] of want.events)
        if (!evs.some((e) => e.type === type && e.generation === generation)) p(`no ${type} event at generation ${generation} (have ${evs.map((e) => `${e.type}@${e.generation}`).join(',')})`);
      if (want.title) {
        const cm = await s.kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${d.deploymentUid}-config`, namespace: d.deploymentUid });
        if (cm?.data?.title !== want.title(i)) p(`ConfigMap title ${cm?.data?.title}, want ${want.title(i)}`);
      }
    }),
  );
  problems.push(...(await pendingReleases(s, fleet)).map((x) => `pending release revision ${x}`));
  return problems;
}

/** Deletes the fleet through the API and waits until every deployment is deleted; returns the seconds it took. */
export async function deleteFleet(s: RelSuite, fleet: Deployment[], timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  await Promise.all(
    fleet.map(async (d) => {
      const res = await s.api.http.delete(`/users/${s.seed.userId}/deployments/${d.id}`).set(s.admin);
      if (res.status !== 202) throw new Error(`delete ${d.id}: ${res.status} ${res.text}`);
    }),
  );
  await waitAll(s, fleet, 'deleted', (d) => d.status === 'deleted', timeoutMs);
  return Math.round((Date.now() - started) / 1000);
}

/** The pids of helm processes working on one of the releases. */
export async function helmProcesses(fleet: Deployment[]): Promise<string[]> {
  const out = await new Promise<string>((resolve) => execFile('pgrep', ['-af', 'helm'], (_e, stdout) => resolve(stdout ?? '')));
  return out.split('\n').filter((l) => fleet.some((d) => l.includes(` ${d.deploymentUid} `)));
}

// --- the storage-class gate -----------------------------------------------------------------

/**
 * Holds helm in `--wait`, with its release pending, for as long as a test needs: a template whose
 * PersistentVolumeClaim asks for a storage class nothing provisions (KWOK binds only its own
 * class), and `open()` binds a PersistentVolume of that class to each claim. Each helm run holds
 * its release pending for a few seconds only, and on a busy two-core machine ten runs are
 * staggered; with the gate a fault can land while all ten are in flight, every time.
 */
export class StorageGate {
  readonly storageClass = `caelus-rel-gate-${randomBytes(3).toString('hex')}`;

  constructor(private readonly s: RelSuite) {}

  /** A template (version `version`) of the suite's product: webapp `chartVersion` with the gated data claim. */
  async template(version: string, chartVersion = '1.0.0', extra: Record<string, unknown> = {}): Promise<string> {
    const chart = exampleChart(chartVersion);
    const body = { version, ...chart, defaultValues: { ...chart.defaultValues, persistence: { size: '1Gi', storageClassName: this.storageClass } }, ...extra };
    const res = await this.s.api.http.post(`/products/${this.s.seed.productId}/templates`).set(this.s.admin).send(body);
    if (res.status !== 201) throw new Error(`gated template ${version}: ${res.status} ${res.text}`);
    return res.body.id as string;
  }

  /** Binds a PersistentVolume of the gate's class to the claim `<uid>-<claim>` of each deployment. */
  async open(fleet: Deployment[], claim = 'data'): Promise<void> {
    for (const d of fleet) {
      await this.s.kube.apply({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `${d.deploymentUid}-${claim}`, labels: { 'caelus.dev/reliability-gate': this.storageClass } },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          storageClassName: this.storageClass,
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/${this.storageClass}/${d.deploymentUid}-${claim}` },
          claimRef: { namespace: d.deploymentUid, name: `${d.deploymentUid}-${claim}` },
        },
      });
    }
  }

  /** Removes the volumes (they are retained when their namespaces go). */
  async cleanup(): Promise<void> {
    const pvs = await this.s.kube.list('v1', 'PersistentVolume', { labelSelector: `caelus.dev/reliability-gate=${this.storageClass}` }).catch(() => []);
    for (const pv of pvs) await this.s.kube.delete({ apiVersion: 'v1', kind: 'PersistentVolume', name: pv.metadata.name }).catch(() => undefined);
  }
}

/** Waits until `count` (default: all) releases of the fleet are pending-<op> with their helm process running. */
export async function waitForPendingUnderHelm(s: RelSuite, fleet: Deployment[], op: 'install' | 'upgrade', count = fleet.length, maxMs = 180_000): Promise<string[]> {
  const started = Date.now();
  for (;;) {
    const running = await helmProcesses(fleet);
    const live = (await releasesPending(s, fleet, op)).filter((uid) => running.some((l) => l.includes(uid)));
    if (live.length >= count) return live;
    if (Date.now() - started > maxMs) throw new Error(`only ${live.length}/${fleet.length} releases pending-${op} under a running helm after ${maxMs / 1000}s`);
    await sleep(500);
  }
}
