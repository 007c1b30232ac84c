/**
 * Secrets at rest and in helm's errors, on the local stack (issue 12 §3):
 *
 * - a client-made `$caelusEncrypted` envelope (or one copied from another deployment's
 *   response… or row) in values, template defaults or a schema is a 400 naming the field, and
 *   nothing is written;
 * - an envelope copied from one deployment's row into another's with SQL does not open there:
 *   the API refuses the values, the workflow records a clear error, and the other deployment's
 *   plaintext never reaches the cluster, the error, the events or the history;
 * - a secret under each schema construct (additionalProperties, patternProperties, items, tuple
 *   items, if/then/else, allOf/anyOf/oneOf, $ref) and a secret template default are stored
 *   sealed, shown redacted, absent from events, logs and the Temporal history, and reach helm
 *   in clear;
 * - helm errors quoting a secret Go-quoted, in base64, or inside the base64 of a longer string
 *   leave no trace of it in lastError, events, the worker's log or the history.
 *
 * Leaks are looked for independently of the scrubber: each secret carries a random hex core,
 * searched in the text and in the base64 decoding (at every offset) of every base64-looking run.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeObject } from '../../libs/platform/src';
import { REPO } from '../support/lifecycle';
import { AppProcess, allEvents, Deployment, DeploymentView, getDeployment, readyAt, RelSuite, startRelSuite, waitAll } from './support/harness';
import { scenario } from './support/results';

const CHARTS = join(REPO, 'test', 'reliability', 'fixtures', 'charts');
const CHART_ROOTS = `${join(REPO, 'charts')},${CHARTS}`;
const ENVELOPE = '$caelusEncrypted';

/** A secret with a random hex core that no encoding changes. */
const secret = (label: string, extra = '') => {
  const core = randomBytes(8).toString('hex');
  return { core, value: `${label}-${extra}${core}` };
};

/** Every core found in `text`, as is or inside base64 (standard or URL-safe, at any of the 4 alignments). */
function leakedCores(text: string, cores: string[]): string[] {
  const found = new Set(cores.filter((c) => text.includes(c)));
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    for (let offset = 0; offset < 4; offset++) {
      const decoded = Buffer.from(run.slice(offset).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
      for (const c of cores) if (decoded.includes(c)) found.add(c);
    }
  }
  return [...found];
}

const S = { $ref: '#/definitions/secretString' };
/** Every place a draft-07 schema can put a field, each holding a secret. */
const SCHEMA = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        adminPassword: { type: 'string', 'x-caelus-secret': true },
        title: { type: 'string' },
        extra: { type: 'object', additionalProperties: S },
        patterned: { type: 'object', patternProperties: { '^secret_': S, '^plain_': { type: 'string' } } },
        tokens: { type: 'array', items: { type: 'string', 'x-caelus-secret': true } },
        pair: { type: 'array', items: [{ type: 'string' }, S], minItems: 2, additionalItems: false },
        auth: {
          type: 'object',
          properties: { mode: { type: 'string' } },
          if: { type: 'object', properties: { mode: { const: 'ldap' } } },
          then: { type: 'object', properties: { bindPassword: S } },
          else: { type: 'object', properties: { localPassword: S } },
        },
        combo: {
          type: 'object',
          allOf: [{ type: 'object', properties: { a: S } }],
          anyOf: [{ type: 'object', properties: { b: S } }, { type: 'object' }],
          oneOf: [{ type: 'object', properties: { c: S } }],
        },
        refd: { $ref: '#/definitions/cred' },
      },
    },
    smtp: { type: 'object', properties: { password: S, host: { type: 'string' } } },
    caelus: { type: 'object' },
  },
  definitions: {
    secretString: { type: 'string', 'x-caelus-secret': true },
    cred: { type: 'object', properties: { password: S } },
  },
};

describe('secret envelopes, schema constructs and encoded helm errors (reliability)', () => {
  let s: RelSuite;
  let worker: AppProcess;
  let dumpTemplate: string;
  const DEFAULT_SMTP = secret('smtp-default');
  const A = secret('alice-pw');
  const B = secret('bob-pw');
  let a: Deployment;
  let b: Deployment;
  const base = () => `/users/${s.seed.userId}/deployments`;
  const domain = (p: string) => `${p}-${randomBytes(3).toString('hex')}.example.com`;
  const dumpSecret = async (d: Deployment) => {
    const sec = await s.kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', name: `${d.deploymentUid}-dump`, namespace: d.deploymentUid });
    const field = (k: string) => JSON.parse(Buffer.from(sec?.data?.[k] ?? '', 'base64').toString('utf8') || 'null');
    return { user: field('user.json'), smtp: field('smtp.json') };
  };
  const history = async (d: Deployment) => {
    const temporalCli = join(process.env.CAELUS_TOOLS_BIN ?? join(REPO, '.local', 'bin'), 'temporal');
    const { stdout } = await promisify(execFile)(
      temporalCli,
      ['workflow', 'show', '--workflow-id', d.workflow.id, '--output', 'json', '--address', s.stack.TEMPORAL_ADDRESS, '--namespace', process.env.TEMPORAL_NAMESPACE ?? 'default'],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    expect(stdout.length).toBeGreaterThan(1000);
    return stdout;
  };
  const create = async (templateId: string, values: Record<string, unknown>, prefix: string): Promise<Deployment> => {
    const res = await s.api.http
      .post(base())
      .set(s.admin)
      .send({ templateId, domainName: domain(prefix), values });
    if (res.status !== 202) throw new Error(`create: ${res.status} ${res.text}`);
    return res.body;
  };

  beforeAll(async () => {
    s = await startRelSuite('envelopes', { apiEnv: { CAELUS_CHART_ROOTS: CHART_ROOTS }, versions: ['1.0.0'] });
    worker = s.startWorker('a', { CAELUS_CHART_ROOTS: CHART_ROOTS, LOG_LEVEL: 'debug' });
    const t = await s.api.http
      .post(`/products/${s.seed.productId}/templates`)
      .set(s.admin)
      .send({
        version: '0.2.0',
        chartRef: join(CHARTS, 'secret-dump'),
        chartVersion: '0.1.0',
        valuesSchema: SCHEMA,
        defaultValues: { user: {}, smtp: { password: DEFAULT_SMTP.value, host: 'mail.example' }, caelus: { deploymentUid: '', domainName: '' } },
      });
    if (t.status !== 201) throw new Error(`template: ${t.status} ${t.text}`);
    dumpTemplate = t.body.id;
    a = await create(dumpTemplate, { adminPassword: A.value }, 'alice');
    b = await create(dumpTemplate, { adminPassword: B.value }, 'bob');
    await waitAll(s, [a, b], 'ready at generation 1', readyAt(1), 180_000);
  });

  afterAll(async () => {
    await worker?.stop(10_000);
    await s?.close();
  });

  it('refuses client-made envelopes in values, template defaults and schemas with a 400, writing nothing', async () => {
    await scenario('secret-client-envelope-refused', 0, 'requests', async (r) => {
      const [{ v: stolen }] = await s.db.query<{ v: unknown }>(`select user_values->'adminPassword' as v from deployments where id = $1`, [a.id]);
      const templates = `/products/${s.seed.productId}/templates`;
      const cases: [string, 'post' | 'put', string, object, string][] = [
        [
          "another deployment's real envelope as a value",
          'post',
          base(),
          { templateId: dumpTemplate, domainName: domain('thief'), values: { adminPassword: stolen } },
          '/user/adminPassword/$caelusEncrypted',
        ],
        [
          'a made-up envelope',
          'post',
          base(),
          { templateId: dumpTemplate, domainName: domain('forge'), values: { adminPassword: { [ENVELOPE]: 'v2.00000000.AAAA.AAAA.AAAA' } } },
          '/user/adminPassword/$caelusEncrypted',
        ],
        [
          'an envelope deep in an array',
          'post',
          base(),
          { templateId: dumpTemplate, domainName: domain('deep'), values: { extra: { k: 'x' }, tokens: ['a', { [ENVELOPE]: 1 }] } },
          '/user/tokens/1/$caelusEncrypted',
        ],
        ['an envelope in a values update', 'put', `${base()}/${b.id}`, { values: { adminPassword: stolen } }, '/user/adminPassword/$caelusEncrypted'],
        [
          'an envelope in template defaults',
          'post',
          templates,
          { version: '0.3.0', chartRef: join(CHARTS, 'secret-dump'), chartVersion: '0.1.0', defaultValues: { smtp: { password: stolen } } },
          'defaultValues/smtp/password/$caelusEncrypted',
        ],
        [
          'the key in a schema',
          'post',
          templates,
          { version: '0.3.1', chartRef: join(CHARTS, 'secret-dump'), chartVersion: '0.1.0', valuesSchema: { type: 'object', properties: { [ENVELOPE]: { type: 'string' } } } },
          'valuesSchema/properties/$caelusEncrypted',
        ],
      ];
      const before = await s.db.snapshot();
      const problems: string[] = [];
      for (const [what, method, path, body, field] of cases) {
        const res = await s.api.http[method](path).set(s.admin).send(body);
        const fields = (res.body.fields ?? []).map((f: { field: string }) => f.field);
        if (res.status !== 400 || !fields.includes(field)) problems.push(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
      }
      expect(problems).toEqual([]);
      expect(await s.db.snapshot()).toEqual(before);
      expect((await getDeployment(s, b)).generation).toBe(1);
      r.setRuns(cases.length);
      r.note(`${cases.length} requests with an envelope (one a real envelope of another deployment) answered 400 naming the field; no row written`);
    });
  });

  it('does not open an envelope copied into another deployment row', async () => {
    await scenario('secret-envelope-bound', 1, 'copied envelopes', async (r) => {
      // An attacker with write access to the table copies Alice's sealed password into Bob's row.
      await s.db.query(`update deployments set user_values = jsonb_set(user_values, '{adminPassword}', (select user_values->'adminPassword' from deployments where id = $1)) where id = $2`, [
        a.id,
        b.id,
      ]);

      // The API refuses to carry it forward (the redaction marker keeps the stored envelope), without the value.
      const put = await s.api.http
        .put(`${base()}/${b.id}`)
        .set(s.admin)
        .send({ values: { adminPassword: '[redacted]' } });
      expect(put.status).toBe(400);
      expect(put.body.fields).toEqual([{ field: '/adminPassword', message: expect.stringMatching(/does not open here/) }]);
      expect(leakedCores(put.text, [A.core])).toEqual([]);

      // The workflow, asked to apply it, fails clearly and for good; Bob's cluster keeps Bob's password.
      await s.temporal.workflow.getHandle(b.workflow.id).signal('reconcile', { force: true });
      const [failed] = await waitAll(s, [b], 'error', (d: DeploymentView) => d.status === 'error', 120_000);
      expect(failed.lastError).toMatch(/does not open here/);
      expect(failed.lastError).toContain('/adminPassword');
      expect((await dumpSecret(b)).user).toEqual({ adminPassword: B.value });
      const events = JSON.stringify(await allEvents(s, b));
      const found = [...leakedCores(JSON.stringify(failed), [A.core]), ...leakedCores(events, [A.core]), ...leakedCores(await history(b), [A.core])];
      expect(found).toEqual([]);
      r.note(
        `copied with SQL, the envelope was refused by the API (400 on /adminPassword) and by the workflow: "${failed.lastError!.slice(0, 160)}"; the other deployment's secret reached neither the cluster nor the error, events or history`,
      );
    });
  });

  it('seals a secret under every schema construct and a template default, redacts them everywhere, and hands them to helm in clear', async () => {
    await scenario('secret-schema-constructs', 0, 'secret fields', async (r) => {
      const sec = Object.fromEntries(['props', 'addl', 'pattern', 'item0', 'item1', 'tuple', 'then', 'else', 'allof', 'anyof', 'oneof', 'ref'].map((k) => [k, secret(k)]));
      const values = {
        adminPassword: sec.props.value,
        title: 'visible title',
        extra: { apiKey: sec.addl.value },
        patterned: { secret_token: sec.pattern.value, plain_note: 'visible note' },
        tokens: [sec.item0.value, sec.item1.value],
        pair: ['visible-user', sec.tuple.value],
        auth: { mode: 'ldap', bindPassword: sec.then.value, localPassword: sec.else.value },
        combo: { a: sec.allof.value, b: sec.anyof.value, c: sec.oneof.value },
        refd: { password: sec.ref.value },
      };
      const sealedAt = [
        '/adminPassword',
        '/extra/apiKey',
        '/patterned/secret_token',
        '/tokens/0',
        '/tokens/1',
        '/pair/1',
        '/auth/bindPassword',
        '/auth/localPassword',
        '/combo/a',
        '/combo/b',
        '/combo/c',
        '/refd/password',
      ];
      const cores = [...Object.values(sec).map((x) => x.core), DEFAULT_SMTP.core];
      const responses: string[] = [];

      const d = await create(dumpTemplate, values, 'constructs');
      await waitAll(s, [d], 'ready at generation 1', readyAt(1), 180_000);

      // At rest: sealed where the schema says, whatever the construct; the template default too.
      const [row] = await s.db.query<{ v: Record<string, unknown>; t: string }>(`select user_values as v, row_to_json(x)::text as t from deployments x where id = $1`, [d.id]);
      const at = (doc: unknown, pointer: string) =>
        pointer
          .split('/')
          .slice(1)
          .reduce<unknown>((n, k) => (n as Record<string, unknown>)?.[k], doc);
      const notSealed = sealedAt.filter((p) => typeof (at(row.v, p) as Record<string, unknown>)?.[ENVELOPE] !== 'string');
      expect(notSealed).toEqual([]);
      expect(leakedCores(row.t, cores)).toEqual([]);
      const [tpl] = await s.db.query<{ v: { smtp: Record<string, unknown> }; t: string }>(`select default_values as v, row_to_json(x)::text as t from template_versions x where id = $1`, [
        dumpTemplate,
      ]);
      expect(typeof tpl.v.smtp.password).toBe('object');
      expect(leakedCores(tpl.t, cores)).toEqual([]);

      // In responses: redacted at each location, ordinary values readable.
      const view = await s.api.http.get(`${base()}/${d.id}`).set(s.admin).expect(200);
      responses.push(view.text);
      expect(view.body.values).toEqual({
        adminPassword: '[redacted]',
        title: 'visible title',
        extra: { apiKey: '[redacted]' },
        patterned: { secret_token: '[redacted]', plain_note: 'visible note' },
        tokens: ['[redacted]', '[redacted]'],
        pair: ['visible-user', '[redacted]'],
        auth: { mode: 'ldap', bindPassword: '[redacted]', localPassword: '[redacted]' },
        combo: { a: '[redacted]', b: '[redacted]', c: '[redacted]' },
        refd: { password: '[redacted]' },
      });
      const tget = await s.api.http.get(`/products/${s.seed.productId}/templates/${dumpTemplate}`).set(s.admin).expect(200);
      const tlist = await s.api.http.get(`/products/${s.seed.productId}/templates`).set(s.admin).expect(200);
      responses.push(tget.text, tlist.text, (await s.api.http.get(`${base()}?limit=100`).set(s.admin).expect(200)).text);
      expect(tget.body.defaultValues.smtp).toEqual({ password: '[redacted]', host: 'mail.example' });
      expect(tlist.body.items.find((t: { id: string }) => t.id === dumpTemplate).defaultValues.smtp.password).toBe('[redacted]');

      // Helm got them in clear: the chart wrote what it received into a Secret.
      expect(await dumpSecret(d)).toEqual({ user: values, smtp: { password: DEFAULT_SMTP.value, host: 'mail.example' } });

      // Nowhere else: responses, events, the exported history.
      const events = await allEvents(s, d);
      const found = [...leakedCores(responses.join('\n'), cores), ...leakedCores(JSON.stringify(events), cores), ...leakedCores(await history(d), cores), ...leakedCores(worker.output(), cores)];
      expect(found).toEqual([]);
      r.setRuns(sealedAt.length + 1);
      r.note(
        `${sealedAt.length} secrets under properties, additionalProperties, patternProperties, items, tuple items, if/then/else, allOf/anyOf/oneOf and $ref, and a template default: sealed in the rows, redacted in ${responses.length} responses, absent from ${events.length} events, the history and the worker's debug log, and in clear in the release`,
      );
    });
  });

  it('keeps a secret that helm errors print Go-quoted or in base64 out of lastError, events, the log and the history', async () => {
    await scenario('secret-encoded-helm-error', 3, 'encodings', async (r) => {
      const leak = secret('Leak', 'q"é\\');
      const t = await s.api.http
        .post(`/products/${s.seed.productId}/templates`)
        .set(s.admin)
        .send({
          version: '0.4.0',
          chartRef: join(CHARTS, 'leaky-encoded'),
          chartVersion: '0.1.0',
          defaultValues: { user: { mode: 'q' }, caelus: { deploymentUid: '', domainName: '' } },
          valuesSchema: { type: 'object', properties: { user: { type: 'object', properties: { mode: { enum: ['q', 'b', 'd'] }, adminPassword: { type: 'string', 'x-caelus-secret': true } } } } },
        })
        .expect(201);
      const fleet: Deployment[] = [];
      for (const mode of ['q', 'b', 'd']) fleet.push(await create(t.body.id, { mode, adminPassword: leak.value }, `enc-${mode}`));
      const failed = await waitAll(s, fleet, 'error', (d: DeploymentView) => d.status === 'error' && Boolean(d.lastError), 180_000);

      const found: string[] = [];
      for (const [i, d] of failed.entries()) {
        // The API server did quote it: the error says so, with the value scrubbed.
        expect(d.lastError).toMatch(/Invalid value/);
        expect(d.lastError).toContain('[redacted]');
        found.push(...leakedCores(d.lastError!, [leak.core]).map(() => `lastError of mode ${['q', 'b', 'd'][i]}`));
        found.push(...leakedCores(JSON.stringify(await allEvents(s, fleet[i])), [leak.core]).map(() => `events of mode ${['q', 'b', 'd'][i]}`));
        found.push(...leakedCores(await history(fleet[i]), [leak.core]).map(() => `history of mode ${['q', 'b', 'd'][i]}`));
      }
      const log = worker.output();
      expect(/"level":20[^\n]*"msg":"helm"/.test(log)).toBe(true);
      found.push(...leakedCores(log, [leak.core]).map(() => 'the worker log'));
      expect(found).toEqual([]);
      const quoted = (e: string) => e.slice(e.indexOf('Invalid value'), e.indexOf('Invalid value') + 60);
      r.note(`lastError quoting the value Go-quoted, in base64 and inside the base64 of a DSN: ${failed.map((d) => `"…${quoted(d.lastError!)}…"`).join(', ')}`);
    });
  });
});
