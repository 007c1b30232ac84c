// Proves each local-stack component for real (issue 2): Postgres, a workflow on the
// Temporal dev server, Kubernetes objects reaching their ready states through KWOK, helm
// installs from a directory and from the OCI registry by digest, namespace deletion.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { loadStackEnv } from '../../scripts/stack';
import { TEMPORAL_SEARCH_ATTRIBUTES } from '../../scripts/stack/versions';
import * as activities from './fixtures/stack-activities';
import { CaelusPhase, priorityProbe, stackProbe } from './fixtures/stack-workflows';

// testTimeout in a jest project entry is ignored (it is a global option), hence here.
jest.setTimeout(300_000);
Runtime.install({ logger: new DefaultLogger('WARN') });

const env = { ...loadStackEnv(), ...pick(process.env) };
const suffix = randomBytes(3).toString('hex');
const namespace = `stack-it-${suffix}`;
const chartDir = path.join(__dirname, 'fixtures', 'charts', 'stack-probe');

function pick(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined));
}

function exec(bin: string, args: string[], timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const kubectl = (...args: string[]) => exec(path.join(env.CAELUS_TOOLS_BIN, 'kubectl'), args);
const helm = (...args: string[]) => exec(env.HELM_BIN, args);

function apply(manifest: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(path.join(env.CAELUS_TOOLS_BIN, 'kubectl'), ['apply', '-n', namespace, '-f', '-'], { env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(manifest);
  });
}

describe('local stack', () => {
  it('writes the documented keys to .local/stack.env', () => {
    for (const key of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_UI_URL', 'KUBECONFIG', 'HELM_BIN', 'CAELUS_OCI_REGISTRY', 'CAELUS_TOOLS_BIN']) {
      expect(loadStackEnv()[key]).toBeTruthy();
    }
    for (const bin of ['temporal', 'kubectl', 'helm', 'kwokctl']) {
      expect(fs.existsSync(path.join(env.CAELUS_TOOLS_BIN, bin))).toBe(true);
    }
  });

  describe('PostgreSQL', () => {
    it('points tests at caelus_test and has the app database next to it', async () => {
      expect(process.env.TEST_DATABASE_URL).toBe(process.env.DATABASE_URL);
      const client = new PgClient({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      try {
        const current = await client.query<{ db: string }>('select current_database() as db');
        expect(current.rows[0].db).toBe('caelus_test');
        const app = await client.query("select 1 from pg_database where datname = 'caelus'");
        expect(app.rowCount).toBe(1);
      } finally {
        await client.end();
      }
    });
  });

  describe('Temporal', () => {
    // Lets jest exit: the native runtime otherwise keeps a handle open after the worker stops.
    afterAll(() => Runtime.instance().shutdown());

    it('has the Caelus search attributes registered as Keyword', async () => {
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
      try {
        const res = await connection.operatorService.listSearchAttributes({ namespace: env.TEMPORAL_NAMESPACE });
        for (const name of TEMPORAL_SEARCH_ATTRIBUTES) {
          // 2 is INDEXED_VALUE_TYPE_KEYWORD.
          expect(res.customAttributes?.[name]).toBe(2);
        }
      } finally {
        await connection.close();
      }
    });

    it('runs a workflow and its activity on the dev server', async () => {
      const taskQueue = `stack-it-${suffix}`;
      const nativeConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
      try {
        const worker = await Worker.create({
          connection: nativeConnection,
          namespace: env.TEMPORAL_NAMESPACE,
          taskQueue,
          workflowsPath: require.resolve('./fixtures/stack-workflows'),
          activities,
        });
        const client = new TemporalClient({ connection, namespace: env.TEMPORAL_NAMESPACE });
        const workflowId = `stack-it-${suffix}`;
        const result = await worker.runUntil(
          client.workflow.execute(stackProbe, {
            taskQueue,
            workflowId,
            args: ['caelus'],
            typedSearchAttributes: new TypedSearchAttributes([{ key: CaelusPhase, value: 'starting' }]),
          }),
        );
        expect(result).toBe('hello, caelus');
        const described = await client.workflow.getHandle(workflowId).describe();
        expect(described.typedSearchAttributes.get(CaelusPhase)).toBe('probed');
        expect(CaelusPhase.type).toBe(SearchAttributeType.KEYWORD);
      } finally {
        await connection.close();
        await nativeConnection.close();
      }
    });

    it('serves an activity backlog by priority key (the priority matcher is on)', async () => {
      const taskQueue = `stack-it-priority-${suffix}`;
      const nativeConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
      try {
        const client = new TemporalClient({ connection, namespace: env.TEMPORAL_NAMESPACE });
        // Eight at the default key, then two at key 1 and one at key 5, all queued before any
        // activity worker polls.
        const keys = [3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 5];
        const handle = await client.workflow.start(priorityProbe, { taskQueue, workflowId: `stack-it-priority-${suffix}`, args: [keys] });
        // A workflow-only worker (no activities: it polls no activity task), bundled once, runs
        // the probe throughout; the activity worker starts once all its activities are queued.
        const workflows = await Worker.create({ connection: nativeConnection, namespace: env.TEMPORAL_NAMESPACE, taskQueue, workflowsPath: require.resolve('./fixtures/stack-workflows') });
        const ran: number[] = [];
        await workflows.runUntil(async () => {
          for (let i = 0; ; i++) {
            const history = await handle.fetchHistory();
            if ((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length === keys.length) break;
            if (i === 100) throw new Error('the probe did not schedule its activities');
            await new Promise((r) => setTimeout(r, 200));
          }
          // One slot: the worker takes one task at a time, in the order the server hands them out.
          const activities = await Worker.create({
            connection: nativeConnection,
            namespace: env.TEMPORAL_NAMESPACE,
            taskQueue,
            activities: { record: async (index: number) => (ran.push(index), index) },
            maxConcurrentActivityTaskExecutions: 1,
          });
          await activities.runUntil(handle.result());
        });
        expect(ran.slice(0, 2).sort()).toEqual([8, 9]);
        expect(ran[ran.length - 1]).toBe(10);
      } finally {
        await connection.close();
        await nativeConnection.close();
      }
    });
  });

  describe('Kubernetes, helm and the OCI registry', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caelus-stack-it-'));

    afterAll(async () => {
      fs.rmSync(tmp, { recursive: true, force: true });
      // Leaves nothing behind if an assertion failed before the deletion test.
      await kubectl('delete', 'namespace', namespace, '--ignore-not-found', '--wait=false').catch(() => undefined);
    });

    it('creates a namespace', async () => {
      await kubectl('create', 'namespace', namespace);
      expect(await kubectl('get', 'namespace', namespace, '-o', 'jsonpath={.status.phase}')).toBe('Active');
    });

    it('makes a Deployment Available on the KWOK node', async () => {
      await apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: registry.invalid/web:1 }]
`);
      await kubectl('wait', '-n', namespace, '--for=condition=Available', 'deployment/web', '--timeout=120s');
      const phases = await kubectl('get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}');
      expect(phases.split(' ')).toEqual(['Running', 'Running']);
    });

    it('completes a Job', async () => {
      await apply(`apiVersion: batch/v1
kind: Job
metadata: { name: once }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: once, image: registry.invalid/once:1 }]
`);
      await kubectl('wait', '-n', namespace, '--for=condition=Complete', 'job/once', '--timeout=120s');
    });

    it('binds a PersistentVolumeClaim', async () => {
      await apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
`);
      await kubectl('wait', '-n', namespace, '--for=jsonpath={.status.phase}=Bound', 'pvc/data', '--timeout=120s');
    });

    it('installs a chart with a PVC using helm upgrade --install --wait', async () => {
      await helm('upgrade', '--install', 'probe', chartDir, '-n', namespace, '--wait', '--timeout', '3m');
      expect(await helm('status', 'probe', '-n', namespace, '-o', 'json')).toContain('"status":"deployed"');
      expect(await kubectl('get', 'pvc', 'probe-data', '-n', namespace, '-o', 'jsonpath={.status.phase}')).toBe('Bound');
    });

    it('installs a chart pushed to the registry, pinned by digest', async () => {
      const packaged = await helm('package', chartDir, '-d', tmp);
      const tgz = packaged.match(/saved it to: (\S+)/)?.[1];
      expect(tgz).toBeTruthy();
      const repo = `oci://${env.CAELUS_OCI_REGISTRY}/stack-it-${suffix}`;
      const pushed = await helm('push', tgz!, repo, '--plain-http');
      const digest = pushed.match(/Digest:\s*(sha256:[0-9a-f]{64})/)?.[1];
      expect(digest).toBeTruthy();
      await helm('upgrade', '--install', 'probe-oci', `${repo}/stack-probe@${digest}`, '--plain-http', '-n', namespace, '--wait', '--timeout', '3m');
      const manifest = await helm('get', 'metadata', 'probe-oci', '-n', namespace, '-o', 'json');
      expect(JSON.parse(manifest)).toMatchObject({ chart: 'stack-probe', status: 'deployed' });
    });

    it('deletes the namespace completely', async () => {
      await kubectl('delete', 'namespace', namespace, '--wait=true', '--timeout=180s');
      const left = await kubectl('get', 'namespace', namespace, '--ignore-not-found', '-o', 'name');
      expect(left.trim()).toBe('');
    });
  });
});
