/**
 * A secret value set through the API (a field marked x-caelus-secret) goes to the cluster and
 * nowhere else in clear: not in any API response, not in the API's or the worker's log output at
 * LOG_LEVEL=debug (helm's output included), not in the events, not in any column but the
 * encrypted values, and not in the Temporal history of the workflow.
 *
 * The secret travels through create, a values update that keeps it ("[redacted]" sent back),
 * an upgrade preview and an upgrade, a rotation to a new secret, drift on the Kubernetes Secret
 * holding it, and deletion. A second chart puts a secret where the API server refuses it and
 * quotes it in its error, which helm prints: the error Caelus records and logs must not carry it.
 *
 * The same run checks that injection strings in free-text values are applied literally.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeObject } from '../../libs/platform/src';
import { REPO } from '../support/lifecycle';
import { allEvents, ApiProcess, Deployment, readyAt, RelSuite, startApiProcess, startRelSuite, waitAll } from './support/harness';
import { scenario } from './support/results';

const SECRET = `S3cret-${randomBytes(10).toString('hex')}`;
const SECRET2 = `Rotated-${randomBytes(10).toString('hex')}`;
const LEAK = `Leak!${randomBytes(10).toString('hex')}`;
const INJECTION = `$(id); \`rm -rf /\`; --set image.repository=evil --post-renderer=/bin/sh '; DROP TABLE deployments; --`;
const CHART_ROOTS = `${join(REPO, 'charts')},${join(REPO, 'test', 'reliability', 'fixtures', 'charts')}`;

/** The needles: each secret and its base64 (how it sits in a Kubernetes Secret). */
const needles = [SECRET, SECRET2, LEAK].flatMap((x) => [x, Buffer.from(x).toString('base64'), Buffer.from(x).toString('base64').replace(/=+$/, '')]);
const leaks = (where: string, text: string) =>
  needles.filter((n) => text.includes(n)).map((n) => `${where} contains ${n.startsWith('S3') || n.startsWith('Ro') || n.startsWith('Le') ? 'a secret' : 'the base64 of a secret'}`);

describe('secrets never leak (reliability)', () => {
  let s: RelSuite;
  let api: ApiProcess;
  const responses: string[] = [];

  beforeAll(async () => {
    s = await startRelSuite('secret', { apiEnv: { CAELUS_CHART_ROOTS: CHART_ROOTS } });
  });

  afterAll(async () => {
    await api?.stop(10_000);
    await s?.close();
  });

  it('keeps a secret out of responses, logs, events, columns and the Temporal history', async () => {
    await scenario('secrets-never-leak', 0, 'sinks checked', async (r) => {
      const env = { DATABASE_URL: s.dbUrl, CAELUS_TASK_QUEUE: s.workerEnv().CAELUS_TASK_QUEUE, CAELUS_CHART_ROOTS: CHART_ROOTS, LOG_LEVEL: 'debug', TEMPORAL_ADDRESS: s.stack.TEMPORAL_ADDRESS };
      api = await startApiProcess(env, `secret-api-${s.workerEnv().CAELUS_TASK_QUEUE}`);
      const worker = s.startWorker('a', { CAELUS_CHART_ROOTS: CHART_ROOTS, LOG_LEVEL: 'debug', CAELUS_DRIFT_INTERVAL: '8' });
      const admin = { Authorization: `Bearer ${api.adminToken}` };
      const call = async (method: 'get' | 'post' | 'put' | 'delete', path: string, body?: object, expectStatus?: number) => {
        let req = api.http[method](path).set(admin);
        if (body) req = req.send(body);
        const res = await req;
        responses.push(res.text);
        if (expectStatus !== undefined && res.status !== expectStatus) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
        return res;
      };
      const base = `/users/${s.seed.userId}/deployments`;
      const viaChild: RelSuite = Object.create(s, { api: { get: () => ({ http: api.http, adminToken: api.adminToken }) }, admin: { get: () => admin } });

      // The leaky chart, its password declared secret.
      const leakyTemplate = await call(
        'post',
        `/products/${s.seed.productId}/templates`,
        {
          version: '0.1.0',
          chartRef: join(REPO, 'test', 'reliability', 'fixtures', 'charts', 'leaky'),
          chartVersion: '0.1.0',
          defaultValues: { user: { title: 'leaky' }, caelus: { deploymentUid: '', domainName: '' } },
          valuesSchema: {
            type: 'object',
            properties: { user: { type: 'object', additionalProperties: false, properties: { title: { type: 'string' }, adminPassword: { type: 'string', 'x-caelus-secret': true } } } },
          },
        },
        201,
      );

      // Create with the secret and injection strings in a free-text value.
      const created = await call(
        'post',
        base,
        { templateId: s.seed.templates['1.0.0'], domainName: `secret-${randomBytes(3).toString('hex')}.example.com`, values: { title: INJECTION, adminPassword: SECRET } },
        202,
      );
      const d: Deployment = created.body;
      expect(created.body.values).toEqual({ title: INJECTION, adminPassword: '[redacted]' });
      await waitAll(viaChild, [d], 'ready at generation 1', readyAt(1));
      const ns = d.deploymentUid;
      const cm = await s.kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: `${ns}-config`, namespace: ns });
      expect(cm?.data?.title).toBe(INJECTION);
      const dep = await s.kube.get<KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }>({ apiVersion: 'apps/v1', kind: 'Deployment', name: ns, namespace: ns });
      expect(dep?.spec.template.spec.containers[0].image).toBe('nginxinc/nginx-unprivileged:1.27-alpine');
      const clusterSecret = async () =>
        Buffer.from(
          (await s.kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', name: `${ns}-admin`, namespace: ns }))?.data?.['admin-password'] ?? '',
          'base64',
        ).toString();
      expect(await clusterSecret()).toBe(SECRET);
      r.note('injection strings in a value were applied literally (ConfigMap title as sent, image unchanged)');

      // Keep it, preview and run an upgrade, rotate it.
      await call('put', `${base}/${d.id}`, { values: { title: 'Second', adminPassword: '[redacted]' } }, 202);
      await waitAll(viaChild, [d], 'ready at generation 2', readyAt(2));
      expect(await clusterSecret()).toBe(SECRET);
      await call('post', `${base}/${d.id}/upgrade?dryRun=true`, { templateId: s.seed.templates['1.1.0'] }, 200);
      await call('post', `${base}/${d.id}/upgrade`, { templateId: s.seed.templates['1.1.0'] }, 202);
      await waitAll(viaChild, [d], 'ready at generation 3', readyAt(3));
      await call('put', `${base}/${d.id}`, { values: { title: 'Third', adminPassword: SECRET2 } }, 202);
      await waitAll(viaChild, [d], 'ready at generation 4', readyAt(4));
      expect(await clusterSecret()).toBe(SECRET2);

      // Drift on the Secret that holds it: detected and corrected, recorded without the value.
      await s.kube.mergePatch({ apiVersion: 'v1', kind: 'Secret', name: `${ns}-admin`, namespace: ns }, { data: { 'admin-password': Buffer.from('tampered-by-test').toString('base64') } });
      const end = Date.now() + 90_000;
      while (!(await allEvents(viaChild, d)).some((e) => e.type === 'drift-corrected')) {
        if (Date.now() > end) throw new Error('no drift-corrected event within 90 s');
        await new Promise((res) => setTimeout(res, 2000));
      }
      expect(await clusterSecret()).toBe(SECRET2);

      // The API server quotes the leaky chart's secret in its refusal; helm prints it.
      const leaky = await call('post', base, { templateId: leakyTemplate.body.id, domainName: `leaky-${randomBytes(3).toString('hex')}.example.com`, values: { adminPassword: LEAK } }, 202);
      const failed = await waitAll(viaChild, [leaky.body], 'error', (x) => x.status === 'error', 180_000);
      expect(failed[0].lastError).toMatch(/invalid|Invalid value/);
      expect(failed[0].lastError).toContain('[redacted]');
      r.note(`the API server's refusal of the leaky chart was recorded as: ${failed[0].lastError!.slice(0, 160)}`);

      // Reads of everything, then deletion.
      await call('get', `${base}/${d.id}`, undefined, 200);
      await call('get', `${base}?limit=100`, undefined, 200);
      await call('get', `${base}/${d.id}/events?limit=100`, undefined, 200);
      await call('get', `${base}/${leaky.body.id}/events?limit=100`, undefined, 200);
      await call('get', `${base}/${leaky.body.id}`, undefined, 200);
      for (const x of [d, leaky.body]) await call('delete', `${base}/${x.id}`, undefined, 202);
      await waitAll(viaChild, [d, leaky.body], 'deleted', (x) => x.status === 'deleted', 240_000);

      // --- the sinks ---
      const found: string[] = [];
      responses.forEach((text, i) => found.push(...leaks(`API response #${i}`, text)));
      await api.stop(10_000);
      await worker.stop(30_000);
      const apiLog = api.output();
      const workerLog = worker.output();
      // Not vacuous: the API logged every request, the worker logged helm's progress at debug.
      expect({ apiRequestsLogged: (apiLog.match(/"msg":"request completed"/g) ?? []).length > 20, helmDebugLines: /"level":20[^\n]*"msg":"helm"/.test(workerLog) }).toEqual({
        apiRequestsLogged: true,
        helmDebugLines: true,
      });
      found.push(...leaks('the API log', apiLog), ...leaks('the worker log', workerLog));

      const rows = await s.db.query<{ t: string }>(`select row_to_json(e)::text as t from deployment_events e where deployment_id = any($1::uuid[])`, [[d.id, leaky.body.id]]);
      rows.forEach((row) => found.push(...leaks('an event', row.t)));
      const deployments = await s.db.query<{ t: string; v: string }>(`select row_to_json(x)::text as t, x.user_values::text as v from deployments x where id = any($1::uuid[])`, [
        [d.id, leaky.body.id],
      ]);
      deployments.forEach((row) => found.push(...leaks('a deployments row (user_values is sealed)', row.t)));
      expect(deployments.every((row) => row.v.includes('$caelusEncrypted'))).toBe(true);

      const temporalCli = join(process.env.CAELUS_TOOLS_BIN ?? join(REPO, '.local', 'bin'), 'temporal');
      for (const x of [d, leaky.body] as Deployment[]) {
        const { stdout } = await promisify(execFile)(
          temporalCli,
          ['workflow', 'show', '--workflow-id', x.workflow.id, '--output', 'json', '--address', s.stack.TEMPORAL_ADDRESS, '--namespace', process.env.TEMPORAL_NAMESPACE ?? 'default'],
          {
            maxBuffer: 64 * 1024 * 1024,
          },
        );
        expect(stdout.length).toBeGreaterThan(1000);
        found.push(...leaks(`the Temporal history of ${x.workflow.id}`, stdout));
      }
      expect(found).toEqual([]);
      r.setRuns(responses.length + 2 + 2 + rows.length + deployments.length);
      r.note(
        `searched ${responses.length} API responses, the API log (${Math.round(apiLog.length / 1024)} KiB) and worker log (${Math.round(workerLog.length / 1024)} KiB) at debug, ${rows.length} events, ${deployments.length} rows and 2 exported Temporal histories for 3 secrets and their base64: none found`,
      );
    });
  });
});
