// Who may call what: every route against anonymous callers, wrong tokens, user A (the owner of
// the resources in the path), user B, the bootstrap admin and an admin user. A refused call
// writes nothing.
import request from 'supertest';
import { bearer, TestApi, uniqueName } from '../support/api';
import { Catalog, createUser, E2eSuite, exampleTemplate, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';

type Who = 'anonymous' | 'malformed header' | 'wrong token' | 'deleted user' | 'user A' | 'user B' | 'admin' | 'admin user';
const EVERYONE: Who[] = ['anonymous', 'malformed header', 'wrong token', 'deleted user', 'user A', 'user B', 'admin', 'admin user'];
type Policy = 'public' | 'authenticated' | 'self-or-admin' | 'admin';

/** The status each caller gets under a policy, `ok` being the route's success status. */
function expected(policy: Policy, who: Who, ok: number): number {
  if (policy === 'public') return ok;
  if (['anonymous', 'malformed header', 'wrong token', 'deleted user'].includes(who)) return 401;
  if (who === 'admin' || who === 'admin user') return ok;
  if (policy === 'authenticated') return ok;
  if (policy === 'self-or-admin') return who === 'user A' ? ok : 403;
  return 403;
}

interface Route {
  name: string;
  policy: Policy;
  ok: number;
  /** Prepares what the call needs (fresh resources for destructive calls), then returns a builder of the request. */
  call: (http: ReturnType<typeof request>) => Promise<() => request.Test>;
}

describe('authentication and authorization (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let a: TestUser;
  let b: TestUser;
  let adminUser: TestUser;
  let deletedToken: string;
  let catalog: Catalog;
  let deploymentOfA: string;
  let adminH: Record<string, string>;

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    adminH = bearer(api.adminToken);
    a = await createUser(api, 'usera');
    b = await createUser(api, 'userb');
    adminUser = await createUser(api, 'admin', true);
    const gone = await createUser(api, 'gone');
    await api.http.delete(`/users/${gone.id}`).set(adminH).expect(204);
    deletedToken = gone.token;
    catalog = await seedCatalog(api, 'authz', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    deploymentOfA = await newDeployment();
  });

  afterAll(async () => {
    await suite?.close();
  });

  async function newDeployment(): Promise<string> {
    const res = await api.http
      .post(`/users/${a.id}/deployments`)
      .set(adminH)
      .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('authz') })
      .expect(202);
    return res.body.id;
  }
  const newProduct = async () =>
    (
      await api.http
        .post('/products')
        .set(adminH)
        .send({ name: uniqueName('authz') })
        .expect(201)
    ).body.id as string;
  const dep = (id = deploymentOfA, suffix = '') => `/users/${a.id}/deployments/${id}${suffix}`;
  /** A product with one version and a rollout of it (one active rollout per product: each call gets its own); no worker runs it. */
  const newRollout = async (status?: 'paused'): Promise<string> => {
    const productId = await newProduct();
    const t = await api.http.post(`/products/${productId}/templates`).set(adminH).send(exampleTemplate('1.0.0')).expect(201);
    const r = await api.http.post(`/products/${productId}/rollouts`).set(adminH).send({ toTemplateId: t.body.id }).expect(202);
    if (status) await db.query(`UPDATE rollouts SET status = $2 WHERE id = $1`, [r.body.id, status]);
    return `/products/${productId}/rollouts/${r.body.id}`;
  };

  const headersFor = (who: Who): Record<string, string> => {
    switch (who) {
      case 'anonymous':
        return {};
      case 'malformed header':
        return { Authorization: `Basic ${Buffer.from(`x:${api.adminToken}`).toString('base64')}` };
      case 'wrong token':
        return bearer('cae_this-token-matches-nobody-at-all-000000000');
      case 'deleted user':
        return bearer(deletedToken);
      case 'user A':
        return bearer(a.token);
      case 'user B':
        return bearer(b.token);
      case 'admin':
        return adminH;
      case 'admin user':
        return bearer(adminUser.token);
    }
  };

  const routes: Route[] = [
    { name: 'GET /health/live', policy: 'public', ok: 200, call: async (h) => () => h.get('/health/live') },
    { name: 'GET /docs-json', policy: 'public', ok: 200, call: async (h) => () => h.get('/docs-json') },

    { name: 'POST /users', policy: 'admin', ok: 201, call: async (h) => () => h.post('/users').send({ email: `${uniqueName('m')}@example.com` }) },
    { name: 'GET /users', policy: 'admin', ok: 200, call: async (h) => () => h.get('/users?limit=1') },
    { name: 'GET /users/:userId', policy: 'self-or-admin', ok: 200, call: async (h) => () => h.get(`/users/${a.id}`) },
    { name: 'PUT /users/:userId', policy: 'admin', ok: 200, call: async (h) => () => h.put(`/users/${a.id}`).send({ maxDeployments: 1000 }) },
    {
      name: 'POST /users/:userId/token',
      policy: 'self-or-admin',
      ok: 200,
      // A successful rotation revokes A's token: the matrix goes on with the new one.
      call: async (h) => () =>
        h.post(`/users/${a.id}/token`).on('response', (res: { status: number; body: { apiToken?: string } }) => {
          if (res.status === 200 && res.body.apiToken) a.token = res.body.apiToken;
        }),
    },
    {
      name: 'DELETE /users/:userId',
      policy: 'admin',
      ok: 204,
      call: async (h) => {
        const id = (
          await api.http
            .post('/users')
            .set(adminH)
            .send({ email: `${uniqueName('del')}@example.com` })
            .expect(201)
        ).body.id;
        return () => h.delete(`/users/${id}`);
      },
    },

    { name: 'POST /products', policy: 'admin', ok: 201, call: async (h) => () => h.post('/products').send({ name: uniqueName('authz') }) },
    { name: 'GET /session', policy: 'authenticated', ok: 200, call: async (h) => () => h.get('/session') },
    { name: 'GET /products', policy: 'authenticated', ok: 200, call: async (h) => () => h.get('/products?limit=1') },
    { name: 'GET /products/:productId', policy: 'authenticated', ok: 200, call: async (h) => () => h.get(`/products/${catalog.productId}`) },
    { name: 'PUT /products/:productId', policy: 'admin', ok: 200, call: async (h) => () => h.put(`/products/${catalog.productId}`).send({ description: uniqueName('d') }) },
    {
      name: 'DELETE /products/:productId',
      policy: 'admin',
      ok: 204,
      call: async (h) => {
        const id = await newProduct();
        return () => h.delete(`/products/${id}`);
      },
    },

    {
      name: 'POST /products/:productId/templates',
      policy: 'admin',
      ok: 201,
      call: async (h) => () => h.post(`/products/${catalog.productId}/templates`).send(exampleTemplate('1.0.0', `0.0.${Math.floor(Math.random() * 1e9)}`)),
    },
    { name: 'GET /products/:productId/templates', policy: 'authenticated', ok: 200, call: async (h) => () => h.get(`/products/${catalog.productId}/templates`) },
    {
      name: 'GET /products/:productId/templates/:templateId',
      policy: 'authenticated',
      ok: 200,
      call: async (h) => () => h.get(`/products/${catalog.productId}/templates/${catalog.templates['1.0.0']}`),
    },
    {
      name: 'DELETE /products/:productId/templates/:templateId',
      policy: 'admin',
      ok: 204,
      call: async (h) => {
        const t = await api.http
          .post(`/products/${catalog.productId}/templates`)
          .set(adminH)
          .send(exampleTemplate('1.0.0', `0.0.${Math.floor(Math.random() * 1e9)}`))
          .expect(201);
        return () => h.delete(`/products/${catalog.productId}/templates/${t.body.id}`);
      },
    },

    {
      name: 'POST /users/:userId/deployments',
      policy: 'self-or-admin',
      ok: 202,
      call: async (h) => () => h.post(`/users/${a.id}/deployments`).send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('authz') }),
    },
    { name: 'GET /users/:userId/deployments', policy: 'self-or-admin', ok: 200, call: async (h) => () => h.get(`/users/${a.id}/deployments?limit=1`) },
    { name: 'GET /users/:userId/deployments/:deploymentId', policy: 'self-or-admin', ok: 200, call: async (h) => () => h.get(dep()) },
    { name: 'PUT /users/:userId/deployments/:deploymentId', policy: 'self-or-admin', ok: 202, call: async (h) => () => h.put(dep()).send({ values: { title: uniqueName('t') } }) },
    {
      name: 'POST /users/:userId/deployments/:deploymentId/upgrade',
      policy: 'admin',
      ok: 202,
      call: async (h) => {
        const id = await newDeployment();
        return () => h.post(dep(id, '/upgrade')).send({ templateId: catalog.templates['1.1.0'] });
      },
    },
    {
      name: 'DELETE /users/:userId/deployments/:deploymentId',
      policy: 'self-or-admin',
      ok: 202,
      call: async (h) => {
        const id = await newDeployment();
        return () => h.delete(dep(id));
      },
    },
    { name: 'POST /users/:userId/deployments/:deploymentId/suspend', policy: 'self-or-admin', ok: 202, call: async (h) => () => h.post(dep(deploymentOfA, '/suspend')).send({ reason: 'authz' }) },
    { name: 'POST /users/:userId/deployments/:deploymentId/resume', policy: 'self-or-admin', ok: 202, call: async (h) => () => h.post(dep(deploymentOfA, '/resume')) },
    { name: 'GET /users/:userId/deployments/:deploymentId/events', policy: 'self-or-admin', ok: 200, call: async (h) => () => h.get(dep(deploymentOfA, '/events')) },
    { name: 'GET /deployments', policy: 'admin', ok: 200, call: async (h) => () => h.get('/deployments?limit=1') },

    {
      name: 'POST /products/:productId/rollouts',
      policy: 'admin',
      ok: 202,
      call: async (h) => {
        const productId = await newProduct();
        const t = await api.http.post(`/products/${productId}/templates`).set(adminH).send(exampleTemplate('1.0.0')).expect(201);
        return () => h.post(`/products/${productId}/rollouts`).send({ toTemplateId: t.body.id });
      },
    },
    { name: 'GET /products/:productId/rollouts', policy: 'admin', ok: 200, call: async (h) => () => h.get(`/products/${catalog.productId}/rollouts`) },
    {
      name: 'GET /products/:productId/rollouts/:rolloutId',
      policy: 'admin',
      ok: 200,
      call: async (h) => {
        const path = await newRollout();
        return () => h.get(path);
      },
    },
    {
      name: 'POST /products/:productId/rollouts/:rolloutId/pause',
      policy: 'admin',
      ok: 202,
      call: async (h) => {
        const path = await newRollout();
        return () => h.post(`${path}/pause`);
      },
    },
    {
      name: 'POST /products/:productId/rollouts/:rolloutId/resume',
      policy: 'admin',
      ok: 202,
      call: async (h) => {
        const path = await newRollout('paused');
        return () => h.post(`${path}/resume`);
      },
    },
    {
      name: 'POST /products/:productId/rollouts/:rolloutId/abort',
      policy: 'admin',
      ok: 202,
      call: async (h) => {
        const path = await newRollout();
        return () => h.post(`${path}/abort`);
      },
    },
  ];

  describe.each(routes)('$name', (route) => {
    it.each(EVERYONE)(`answers %s as the ${route.policy} policy says`, async (who) => {
      const build = await route.call(api.http);
      const before = await db.snapshot();
      const res = await build().set(headersFor(who));
      const want = expected(route.policy, who, route.ok);
      expect({ who, status: res.status, body: res.status === want ? 'as expected' : res.body }).toEqual({ who, status: want, body: 'as expected' });
      if (want === 401 || want === 403) {
        expect(res.body).toMatchObject({ statusCode: want, message: expect.any(String) });
        expect(await db.snapshot()).toEqual(before);
      }
      if (want === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
    });
  });

  it('says why a call was refused', async () => {
    expect((await api.http.get('/users')).body.message).toBe('A valid bearer token is required');
    expect((await api.http.get('/users').set(bearer('nope'))).body.message).toBe('the bearer token is not valid');
    expect((await api.http.get('/users').set(bearer(a.token))).body.message).toBe('this route is for admins only');
    expect((await api.http.get(`/users/${a.id}/deployments`).set(bearer(b.token))).body.message).toBe('you can only reach your own resources');
  });

  it('checks the token before the input, so anonymous callers learn nothing about ids', async () => {
    await api.http.get('/users/not-a-uuid/deployments/also-not').expect(401);
    await api.http.post('/users/not-a-uuid/deployments').send({ junk: true }).expect(401);
  });

  it('accepts the bearer scheme in any case, but no other scheme and no token in the query', async () => {
    await api.http.get(`/users/${a.id}`).set('Authorization', `bearer ${a.token}`).expect(200);
    await api.http.get(`/users/${a.id}`).set('Authorization', `Token ${a.token}`).expect(401);
    await api.http.get(`/users/${a.id}?access_token=${a.token}`).expect(401);
  });
});
