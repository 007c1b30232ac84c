// The HTTP edge itself: health, OpenAPI at /docs, security headers, request ids, body limits,
// malformed and deeply nested JSON, rate limiting, and a sweep of hostile bodies over every
// write route that must end in a 4xx, never a 500, and write nothing.
import { bearer, startTestApi, TestApi } from '../support/api';
import { connectTemporal, createUser, E2eSuite, seedCatalog, startSuite, TestDb, uniqueDomain } from '../support/e2e';

const nestedArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const nestedObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

describe('HTTP edge (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let writeRoutes: { method: 'post' | 'put'; path: string; token: string }[];

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    const user = await createUser(api, 'edge');
    const catalog = await seedCatalog(api, 'edge', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    const d = await api.http
      .post(`/users/${user.id}/deployments`)
      .set(admin)
      .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('edge') })
      .expect(202);
    writeRoutes = [
      { method: 'post', path: '/users', token: api.adminToken },
      { method: 'post', path: '/products', token: api.adminToken },
      { method: 'put', path: `/products/${catalog.productId}`, token: api.adminToken },
      { method: 'post', path: `/products/${catalog.productId}/templates`, token: api.adminToken },
      { method: 'post', path: `/users/${user.id}/deployments`, token: user.token },
      { method: 'put', path: `/users/${user.id}/deployments/${d.body.id}`, token: user.token },
      { method: 'post', path: `/users/${user.id}/deployments/${d.body.id}/upgrade`, token: api.adminToken },
      { method: 'post', path: `/users/${user.id}/deployments/${d.body.id}/suspend`, token: user.token },
      { method: 'post', path: `/products/${catalog.productId}/rollouts`, token: api.adminToken },
    ];
  });

  afterAll(async () => {
    await suite?.close();
  });

  describe('health', () => {
    it('reports one indicator per dependency, the database up', async () => {
      const res = await api.http.get('/health');
      expect([200, 503]).toContain(res.status);
      expect(Object.keys(res.body.details).sort()).toEqual(['database', 'kubernetes', 'temporal']);
      expect(res.body.details.database).toEqual({ status: 'up' });
      if (await connectTemporal().then(async (c) => (c ? (await c.connection.close(), true) : false))) expect(res.body.details.temporal).toEqual({ status: 'up' });
      expect(res.body.status).toBe(res.status === 200 ? 'ok' : 'error');
    });

    it('has a liveness probe that needs no token', async () => {
      expect((await api.http.get('/health/live').expect(200)).body).toEqual({ status: 'ok' });
    });
  });

  describe('OpenAPI', () => {
    it('serves the Swagger UI at /docs and the document at /docs-json', async () => {
      const ui = await api.http.get('/docs').redirects(1).expect(200);
      expect(ui.text).toMatch(/swagger/i);
      const doc = (await api.http.get('/docs-json').expect(200)).body;
      expect(doc.openapi).toMatch(/^3\./);
      const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
      expect(operations.sort()).toEqual(
        [
          'POST /users',
          'GET /users',
          'GET /users/{userId}',
          'PUT /users/{userId}',
          'POST /users/{userId}/token',
          'DELETE /users/{userId}',
          'POST /products',
          'GET /products',
          'GET /products/{productId}',
          'PUT /products/{productId}',
          'DELETE /products/{productId}',
          'POST /products/{productId}/templates',
          'GET /products/{productId}/templates',
          'GET /products/{productId}/templates/{templateId}',
          'DELETE /products/{productId}/templates/{templateId}',
          'POST /users/{userId}/deployments',
          'GET /users/{userId}/deployments',
          'GET /users/{userId}/deployments/{deploymentId}',
          'PUT /users/{userId}/deployments/{deploymentId}',
          'DELETE /users/{userId}/deployments/{deploymentId}',
          'POST /users/{userId}/deployments/{deploymentId}/upgrade',
          'POST /users/{userId}/deployments/{deploymentId}/suspend',
          'POST /users/{userId}/deployments/{deploymentId}/resume',
          'GET /users/{userId}/deployments/{deploymentId}/events',
          'GET /deployments',
          'POST /products/{productId}/rollouts',
          'GET /products/{productId}/rollouts',
          'GET /products/{productId}/rollouts/{rolloutId}',
          'POST /products/{productId}/rollouts/{rolloutId}/pause',
          'POST /products/{productId}/rollouts/{rolloutId}/resume',
          'POST /products/{productId}/rollouts/{rolloutId}/abort',
          'GET /health',
          'GET /health/live',
          'GET /session',
        ].sort(),
      );
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    });
  });

  describe('headers and request ids', () => {
    it('sets security headers and hides the framework', async () => {
      const res = await api.http.get('/health/live');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBeDefined();
      expect(res.headers['content-security-policy']).toBeDefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('quotes the caller’s request id in errors', async () => {
      const res = await api.http.post('/products').set(admin).set('X-Request-Id', 'e2e-req-42').send({ name: 'Bad Name' }).expect(400);
      expect(res.body.requestId).toBe('e2e-req-42');
      const fresh = await api.http.post('/products').set(admin).set('X-Request-Id', 'not ok; <script>').send({ name: 'Bad Name' }).expect(400);
      expect(fresh.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await api.http.get('/nope').set(admin).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });
  });

  describe('bodies', () => {
    const send = (route: { method: 'post' | 'put'; path: string; token: string }, raw: string, type = 'application/json') =>
      api.http[route.method](route.path).set(bearer(route.token)).set('Content-Type', type).send(raw);

    it('refuses a body over the size limit with a 413 on every write route, writing nothing', async () => {
      for (const route of writeRoutes) {
        const before = await db.snapshot();
        const res = await api.http[route.method](route.path)
          .set(bearer(route.token))
          .send({ name: 'x', values: { title: 'y'.repeat(300 * 1024) } });
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 413 });
        expect(res.body).toMatchObject({ message: 'the request body is too large', fields: [{ field: 'body', message: expect.any(String) }] });
        expect(await db.snapshot()).toEqual(before);
      }
    });

    it.each([
      ['truncated JSON', '{"name": '],
      ['a trailing comma', '{"name": "x",}'],
      ['single quotes', "{'name': 'x'}"],
      ['a bare word', 'hello'],
      ['a JSON string', '"x"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
    ])('refuses %s with a 400 on every write route', async (_, raw) => {
      for (const route of writeRoutes) {
        const before = await db.snapshot();
        const res = await send(route, raw);
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 400 });
        expect(res.body).toMatchObject({ message: 'the request body is not valid JSON', fields: [{ field: 'body', message: expect.any(String) }] });
        expect(await db.snapshot()).toEqual(before);
      }
    });

    it.each([
      ['arrays 5 000 deep', nestedArray(5000)],
      ['objects 20 000 deep', nestedObject(20_000)],
      ['a deep value inside a valid body', `{"name":"x","description":${nestedArray(1000)}}`],
      ['129 levels', nestedArray(129)],
    ])('refuses JSON nested %s with a 400, not a stack overflow', async (_, raw) => {
      for (const route of writeRoutes) {
        const before = await db.snapshot();
        const res = await send(route, raw);
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 400 });
        expect(res.body.message).toBe('the request body is nested more than 128 levels deep');
        expect(await db.snapshot()).toEqual(before);
      }
    });

    it('handles bodies just under the nesting limit as ordinary bad input', async () => {
      for (const route of writeRoutes) {
        const res = await send(route, `{"values":${nestedObject(120)},"description":${nestedArray(120)}}`);
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 400 });
        expect(res.body.fields.length).toBeGreaterThan(0);
      }
    });

    it('refuses an unsupported charset with a 415', async () => {
      const res = await send(writeRoutes[1], '{"name":"x"}', 'application/json; charset=latin1');
      expect(res.status).toBe(415);
    });

    it('treats a body that is not JSON as missing fields (400), not a crash', async () => {
      const res = await send(writeRoutes[1], 'name=x', 'text/plain').expect(400);
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain('name');
    });
  });

  describe('hostile bodies never make a 500 and never write', () => {
    const bodies: [string, unknown][] = [
      ['an empty object', {}],
      ['an array', [{ name: 'x' }]],
      ['an empty array', []],
      ['a __proto__ key', JSON.parse('{"__proto__": {"isAdmin": true, "name": "x"}}')],
      ['a constructor.prototype key', { constructor: { prototype: { isAdmin: true } } }],
      ['numbers everywhere', { name: 1, email: 2, version: 3, chartRef: 4, chartVersion: 5, templateId: 6, domainName: 7, values: 8, description: 9 }],
      ['booleans everywhere', { name: true, email: false, version: true, chartRef: true, chartVersion: true, templateId: true, domainName: true, values: true }],
      ['nulls everywhere', { name: null, email: null, version: null, chartRef: null, chartVersion: null, templateId: null, domainName: null, values: null }],
      ['objects everywhere', { name: {}, email: {}, version: {}, chartRef: {}, chartVersion: {}, templateId: {}, domainName: {}, description: {} }],
      ['huge strings', { name: 'x'.repeat(100_000), email: `${'a'.repeat(100_000)}@example.com`, version: '1'.repeat(100_000), domainName: `${'a'.repeat(100_000)}.com` }],
      [
        'control characters and NULs',
        { name: 'a\u0000b', email: 'a\u0000@example.com', chartRef: '/charts\u0000/x', version: '1.0.0\u0000', domainName: 'a\u0000.example.com', values: { 'ke\u0000y': 'v' } },
      ],
      ['unicode look-alikes', { name: 'wеbapp', email: 'аda@example.com', domainName: 'аpp.example.com', version: '１.０.０' }],
      ['SQL text', { name: "x'; drop table users; --", email: "x'--@example.com", templateId: "' OR 1=1 --", domainName: "a.example.com'; --" }],
      ['a values object with odd keys', { values: { '': 1, $ref: '#', __proto__: 1, '../x': 2, 'a.b': 3 }, templateId: '00000000-0000-4000-8000-000000000000', domainName: 'odd.example.com' }],
      ['a numeric-string id', { templateId: '12345678901234567890', domainName: 'n.example.com' }],
    ];

    it.each(bodies)('%s', async (_, body) => {
      for (const route of writeRoutes) {
        const before = await db.snapshot();
        const res = await api.http[route.method](route.path)
          .set(bearer(route.token))
          .send(body as object);
        // PUT /products and POST …/suspend have only optional fields: a body without any of them is valid.
        const mayPass = (route.method === 'put' && route.path.startsWith('/products/')) || route.path.endsWith('/suspend');
        expect({ route: route.path, status: res.status, ok: res.status < 500 && (mayPass || res.status >= 400) }).toEqual({ route: route.path, status: res.status, ok: true });
        if (res.status >= 400) {
          expect(res.body.message).toEqual(expect.any(String));
          expect(await db.snapshot()).toEqual(before);
        }
      }
    });
  });

  describe('rate limiting', () => {
    it('answers 429 past the configured limit', async () => {
      const limited = await startTestApi({ CAELUS_RATE_LIMIT: '3', CAELUS_RATE_LIMIT_TTL: '60', CAELUS_TASK_QUEUE: api.taskQueue });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await limited.http.get('/products').set(bearer(limited.adminToken))).status);
        expect(statuses).toEqual([200, 200, 200, 429, 429]);
        const res = await limited.http.get('/products').set(bearer(limited.adminToken));
        expect(res.body).toMatchObject({ statusCode: 429, message: expect.any(String) });
      } finally {
        await limited.close();
        Object.assign(process.env, { CAELUS_RATE_LIMIT: '1000000', CAELUS_ADMIN_TOKEN: api.adminToken });
      }
    });
  });
});
