/**
 * Deployment limits through HTTP on the real API and Postgres: per user (the configured default
 * and an admin-set limit) and platform-wide, each under a burst of concurrent creations, which
 * must never get past the limit (the check and the insert share one transaction and a lock).
 */
import { execFile } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, REPO_ROOT, seedCatalog, startSuite, TestDb, uniqueDomain } from '../support/e2e';

const BURST = 50;

describe('deployment limits (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let catalog: Catalog;

  const liveCount = async (userId?: string) =>
    Number((await db.query<{ n: string }>(`select count(*) as n from deployments where status <> 'deleted'${userId ? ' and user_id = $1' : ''}`, userId ? [userId] : []))[0].n);
  /** `n` creations at once for the user, with its own token; the responses' status codes. */
  const burst = async (n: number, userId: string, token: string) =>
    (
      await Promise.all(
        Array.from({ length: n }, () =>
          api.http
            .post(`/users/${userId}/deployments`)
            .set(bearer(token))
            .send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain('quota') }),
        ),
      )
    ).map((r) => ({ status: r.status, body: r.body }));

  beforeAll(async () => {
    suite = await startSuite({ CAELUS_MAX_DEPLOYMENTS_PER_USER: '5' });
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    catalog = await seedCatalog(api, 'quota', { '1.0.0': '1.0.0' });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it(`lets exactly 5 of ${BURST} concurrent creations through at a limit of 5, and refuses the rest with a clear 409`, async () => {
    const user = await createUser(api, 'burst');
    const results = await burst(BURST, user.id, user.token);
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 409);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(BURST - 5);
    expect(refused[0].body).toMatchObject({
      message: 'deployment limit reached: this user may have 5 live deployment(s) and has 5; delete one or ask an admin to raise the limit',
      fields: [{ field: 'userId', message: 'has reached its limit of 5 live deployment(s)' }],
    });
    expect(await liveCount(user.id)).toBe(5);

    // Shown on the user, to the user and to the admin.
    const self = await api.http.get(`/users/${user.id}`).set(bearer(user.token)).expect(200);
    expect(self.body).toMatchObject({ maxDeployments: null, deploymentLimit: 5, liveDeployments: 5 });
    const listed = await api.http.get('/users?limit=100').set(admin).expect(200);
    expect(listed.body.items.find((u: { id: string }) => u.id === user.id)).toMatchObject({ deploymentLimit: 5, liveDeployments: 5 });
  });

  it('frees a place only once a deployment is deleted for good (deleting ones still count)', async () => {
    const user = await createUser(api, 'free');
    const made = (await burst(5, user.id, user.token)).filter((r) => r.status === 202);
    expect(made).toHaveLength(5);
    await api.http.delete(`/users/${user.id}/deployments/${made[0].body.id}`).set(bearer(user.token)).expect(202);
    expect((await burst(1, user.id, user.token))[0].status).toBe(409);
    // What the workflow writes when the namespace is gone.
    await db.query(`update deployments set status = 'deleted' where id = $1`, [made[0].body.id]);
    expect((await burst(1, user.id, user.token))[0].status).toBe(202);
  });

  it("lets an admin set a user's own limit (PUT /users/:userId and at creation), which replaces the default", async () => {
    const raised = await createUser(api, 'raised');
    const put = await api.http.put(`/users/${raised.id}`).set(admin).send({ maxDeployments: 8 }).expect(200);
    expect(put.body).toMatchObject({ id: raised.id, maxDeployments: 8, deploymentLimit: 8, liveDeployments: 0 });
    expect((await burst(BURST, raised.id, raised.token)).filter((r) => r.status === 202)).toHaveLength(8);

    const lowered = await api.http
      .post('/users')
      .set(admin)
      .send({ email: `${Date.now()}-low@example.com`, maxDeployments: 1 })
      .expect(201);
    expect(lowered.body).toMatchObject({ maxDeployments: 1, deploymentLimit: 1, liveDeployments: 0 });
    expect((await burst(10, lowered.body.id, lowered.body.apiToken)).filter((r) => r.status === 202)).toHaveLength(1);

    // null goes back to the default; a user cannot change their own limit.
    await api.http.put(`/users/${raised.id}`).set(bearer(raised.token)).send({ maxDeployments: 100 }).expect(403);
    expect((await api.http.put(`/users/${raised.id}`).set(admin).send({ maxDeployments: null }).expect(200)).body).toMatchObject({ maxDeployments: null, deploymentLimit: 5, liveDeployments: 8 });
    await api.http.put(`/users/${raised.id}`).set(admin).send({ maxDeployments: -1 }).expect(400);
    await api.http.put(`/users/${raised.id}`).set(admin).send({ maxDeployments: '3' }).expect(400);
  });

  it('shows the limit and the count in the CLI (get-user, update-user)', async () => {
    const user = await createUser(api, 'cli');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    const cli = (args: string[]) =>
      new Promise<{ code: number; out: Record<string, unknown> }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'apps/cli/src/main.ts', ...args],
          { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '', CAELUS_API_URL: `http://127.0.0.1:${port}`, CAELUS_TOKEN: api.adminToken }, timeout: 60_000 },
          (err, stdout) => resolve({ code: err ? Number(err.code) : 0, out: parseYaml(stdout) }),
        ),
      );
    expect(await cli(['update-user', user.id, '--max-deployments', '2'])).toEqual({ code: 0, out: expect.objectContaining({ maxDeployments: 2, deploymentLimit: 2, liveDeployments: 0 }) });
    await burst(1, user.id, user.token);
    expect(await cli(['get-user', user.id])).toEqual({ code: 0, out: expect.objectContaining({ deploymentLimit: 2, liveDeployments: 1 }) });
  });

  describe('platform-wide limit', () => {
    let global: E2eSuite;

    afterAll(async () => {
      await global?.close();
    });

    it(`holds across users under ${BURST} concurrent creations from five users`, async () => {
      global = await startSuite({ CAELUS_MAX_DEPLOYMENTS: '7', CAELUS_MAX_DEPLOYMENTS_PER_USER: '' });
      const g = global.api;
      const gCatalog = await seedCatalog(g, 'global', { '1.0.0': '1.0.0' });
      const users = await Promise.all(Array.from({ length: 5 }, (_, i) => createUser(g, `global${i}`)));
      const results = await Promise.all(
        Array.from({ length: BURST }, (_, i) => {
          const u = users[i % users.length];
          return g.http
            .post(`/users/${u.id}/deployments`)
            .set(bearer(u.token))
            .send({ templateId: gCatalog.templates['1.0.0'], domainName: uniqueDomain('global') });
        }),
      );
      expect(results.filter((r) => r.status === 202)).toHaveLength(7);
      const refused = results.filter((r) => r.status === 409);
      expect(refused).toHaveLength(BURST - 7);
      expect(refused[0].body.message).toBe('deployment limit reached: the platform runs its maximum of 7 live deployments; try again later');
      const [row] = await global.db.query<{ n: string }>(`select count(*) as n from deployments where status <> 'deleted'`);
      expect(Number(row.n)).toBe(7);
    });
  });
});
