/**
 * POST /users/:userId/token: a new token, the old one refused from the next request on; by the
 * user themself or an admin, and from the CLI (rotate-token).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { bearer, TestApi } from '../support/api';
import { createUser, E2eSuite, NIL_UUID, REPO_ROOT, startSuite, TestDb } from '../support/e2e';

describe('token rotation (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('lets a user rotate their own token: the old one gets 401 at once, the new one works', async () => {
    const user = await createUser(api, 'rotate');
    await api.http.get(`/users/${user.id}`).set(bearer(user.token)).expect(200);
    const res = await api.http.post(`/users/${user.id}/token`).set(bearer(user.token)).expect(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, apiToken: expect.stringMatching(/^cae_[\w-]{43}$/) });
    expect(res.body.apiToken).not.toBe(user.token);

    const old = await api.http.get(`/users/${user.id}`).set(bearer(user.token));
    expect(old.status).toBe(401);
    expect(old.body.message).toBe('the bearer token is not valid');
    await api.http.get(`/users/${user.id}/deployments`).set(bearer(user.token)).expect(401);
    await api.http.post(`/users/${user.id}/token`).set(bearer(user.token)).expect(401);
    await api.http.get(`/users/${user.id}`).set(bearer(res.body.apiToken)).expect(200);

    const [row] = await db.query<{ api_token_hash: string }>(`select api_token_hash from users where id = $1`, [user.id]);
    expect(row.api_token_hash).toBe(createHash('sha256').update(res.body.apiToken).digest('hex'));
  });

  it("lets an admin rotate anyone's token, but not a user another user's", async () => {
    const alice = await createUser(api, 'alice');
    const bob = await createUser(api, 'bob');
    await api.http.post(`/users/${bob.id}/token`).set(bearer(alice.token)).expect(403);
    await api.http.get(`/users/${bob.id}`).set(bearer(bob.token)).expect(200);

    const res = await api.http.post(`/users/${bob.id}/token`).set(admin).expect(200);
    await api.http.get(`/users/${bob.id}`).set(bearer(bob.token)).expect(401);
    await api.http.get(`/users/${bob.id}`).set(bearer(res.body.apiToken)).expect(200);
    await api.http.get(`/users/${alice.id}`).set(bearer(alice.token)).expect(200);
  });

  it('404s for an unknown or deleted user and 400s for a bad id', async () => {
    await api.http.post(`/users/${NIL_UUID}/token`).set(admin).expect(404);
    await api.http.post('/users/not-a-uuid/token').set(admin).expect(400);
    const gone = await createUser(api, 'gone');
    await api.http.delete(`/users/${gone.id}`).set(admin).expect(204);
    await api.http.post(`/users/${gone.id}/token`).set(admin).expect(404);
  });

  it('has a CLI command: rotate-token prints the new token, and the old one stops working', async () => {
    const user = await createUser(api, 'clirot');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    const run = await new Promise<{ code: number; out: Record<string, string>; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'apps/cli/src/main.ts', 'rotate-token', user.id],
        { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '', CAELUS_API_URL: `http://127.0.0.1:${port}`, CAELUS_TOKEN: user.token }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, out: parseYaml(stdout), stderr }),
      ),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatchObject({ id: user.id, apiToken: expect.stringMatching(/^cae_/) });
    await api.http.get(`/users/${user.id}`).set(bearer(user.token)).expect(401);
    await api.http.get(`/users/${user.id}`).set(bearer(run.out.apiToken)).expect(200);
  });
});
