/**
 * Authorization gaps. test/e2e/auth.e2e-spec.ts already runs every route of the API against
 * anonymous callers, a malformed header, a wrong token, a deleted user's token, user A (the
 * owner), user B, the bootstrap admin and an admin user, and checks that a refused call writes
 * nothing. This suite does not repeat it. It checks that the matrix still lists every operation
 * the API documents, covers the operations it leaves out (GET /health, the dryRun upgrade
 * preview), and tries user B reaching user A's deployment through B's own path (and an admin
 * through the wrong user's path), which the matrix's URLs never do.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, REPO_ROOT, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';
import { scenario } from './support/results';

type Who = 'anonymous' | 'wrong token' | 'user A' | 'user B' | 'admin';
const WHO: Who[] = ['anonymous', 'wrong token', 'user A', 'user B', 'admin'];

/** Operations covered here rather than in the e2e matrix. */
const COVERED_HERE = ['GET /health', 'POST /users/:userId/deployments/:deploymentId/upgrade?dryRun=true'];

describe('authorization gaps (reliability)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let a: TestUser;
  let b: TestUser;
  let catalog: Catalog;
  let deploymentOfA: string;
  let admin: Record<string, string>;

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    a = await createUser(api, 'rel-a');
    b = await createUser(api, 'rel-b');
    catalog = await seedCatalog(api, 'relauth', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    deploymentOfA = (
      await api.http
        .post(`/users/${a.id}/deployments`)
        .set(admin)
        .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('relauth') })
        .expect(202)
    ).body.id;
  });

  afterAll(async () => {
    await suite?.close();
  });

  const headers = (who: Who): Record<string, string> =>
    ({ anonymous: {}, 'wrong token': bearer('cae_nobody-has-this-token-0000000000000000000000'), 'user A': bearer(a.token), 'user B': bearer(b.token), admin })[who];

  it('fills the gaps of the e2e matrix, and the matrix lists every other operation', async () => {
    let checks = 0;
    await scenario('authorization-gaps', 0, 'calls', async (r) => {
      // 1. Every documented operation is in the e2e matrix or covered here.
      const matrix = [...readFileSync(join(REPO_ROOT, 'test', 'e2e', 'auth.e2e-spec.ts'), 'utf8').matchAll(/name: '([A-Z]+ [^']+)'/g)].map((m) => m[1]);
      const doc = (await api.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
      const uncovered = operations.filter((op) => !matrix.includes(op) && !COVERED_HERE.includes(op));
      expect(uncovered).toEqual([]);
      r.note(`${operations.length} documented operations: ${operations.length - 1} in test/e2e/auth.e2e-spec.ts (8 callers each), GET /health here`);

      // 2. The operations the matrix leaves out, for each caller.
      const want: Record<string, Record<Who, number>> = {
        'GET /health': { anonymous: 200, 'wrong token': 200, 'user A': 200, 'user B': 200, admin: 200 },
        'POST …/upgrade?dryRun=true': { anonymous: 401, 'wrong token': 401, 'user A': 403, 'user B': 403, admin: 200 },
        // The admin list filtered down to A's own deployment: the filter never makes it A's route.
        'GET /deployments?productId=…&status=…': { anonymous: 401, 'wrong token': 401, 'user A': 403, 'user B': 403, admin: 200 },
      };
      const calls: Record<string, (h: ReturnType<typeof request>) => request.Test> = {
        'GET /health': (h) => h.get('/health'),
        'POST …/upgrade?dryRun=true': (h) => h.post(`/users/${a.id}/deployments/${deploymentOfA}/upgrade?dryRun=true`).send({ templateId: catalog.templates['1.1.0'] }),
        'GET /deployments?productId=…&status=…': (h) => h.get(`/deployments?productId=${catalog.productId}&status=provisioning`),
      };
      const got: string[] = [];
      const expected: string[] = [];
      for (const [name, byWho] of Object.entries(want)) {
        for (const who of WHO) {
          const before = await db.snapshot();
          const res = await calls[name](api.http).set(headers(who));
          // /health answers 503 when a dependency is down; what matters is that no token is needed.
          const status = name === 'GET /health' && res.status === 503 ? 200 : res.status;
          got.push(`${name} as ${who}: ${status}`);
          expected.push(`${name} as ${who}: ${byWho[who]}`);
          expect(await db.snapshot()).toEqual(before);
          checks += 1;
        }
      }
      expect(got).toEqual(expected);

      // 3. Someone else's deployment through one's own path: not found, never a change.
      const other = await seedCatalog(api, 'relauth-rollout', { '1.0.0': '1.0.0' });
      const rollout = (await api.http.post(`/products/${other.productId}/rollouts`).set(admin).send({ toTemplateId: other.templates['1.0.0'] }).expect(202)).body as { id: string };
      const ofA = (user: TestUser, suffix = '') => `/users/${user.id}/deployments/${deploymentOfA}${suffix}`;
      const idor: [string, (h: ReturnType<typeof request>) => request.Test, Record<string, string>][] = [
        ['user B: GET under /users/B', (h) => h.get(ofA(b)), bearer(b.token)],
        ['user B: PUT under /users/B', (h) => h.put(ofA(b)).send({ values: { title: 'owned' } }), bearer(b.token)],
        ['user B: DELETE under /users/B', (h) => h.delete(ofA(b)), bearer(b.token)],
        ['user B: events under /users/B', (h) => h.get(ofA(b, '/events')), bearer(b.token)],
        ['admin: PUT under /users/B', (h) => h.put(ofA(b)).send({ values: { title: 'owned' } }), admin],
        ['admin: upgrade under /users/B', (h) => h.post(ofA(b, '/upgrade')).send({ templateId: catalog.templates['1.1.0'] }), admin],
        ['admin: DELETE under /users/B', (h) => h.delete(ofA(b)), admin],
        ['user B: suspend under /users/B', (h) => h.post(ofA(b, '/suspend')).send({}), bearer(b.token)],
        ['admin: resume under /users/B', (h) => h.post(ofA(b, '/resume')), admin],
        // A rollout reached through another product's path.
        ['admin: GET a rollout under another product', (h) => h.get(`/products/${catalog.productId}/rollouts/${rollout.id}`), admin],
        ['admin: pause a rollout under another product', (h) => h.post(`/products/${catalog.productId}/rollouts/${rollout.id}/pause`), admin],
        ['admin: abort a rollout under another product', (h) => h.post(`/products/${catalog.productId}/rollouts/${rollout.id}/abort`), admin],
      ];
      for (const [name, call, h] of idor) {
        const before = await db.snapshot();
        const res = await call(api.http).set(h);
        expect({ name, status: res.status }).toEqual({ name, status: 404 });
        expect(await db.snapshot()).toEqual(before);
        checks += 1;
      }
      const still = await api.http.get(ofA(a)).set(bearer(a.token)).expect(200);
      expect(still.body).toMatchObject({ generation: 1, status: 'provisioning', deletedAt: null });
      r.setRuns(checks);
      r.note(
        `GET /health, the dryRun preview and the filtered admin list × ${WHO.length} callers as expected; ${idor.length} cross-user (or cross-product) path attempts all 404 with nothing written`,
      );
    });
  });
});
