// /users through HTTP: the one-time API token (stored hashed), validation, duplicates, soft deletes.
import { createHash } from 'node:crypto';
import { bearer, TestApi, uniqueName } from '../support/api';
import { createUser, E2eSuite, NIL_UUID, seedCatalog, startSuite, TestDb, uniqueDomain } from '../support/e2e';

describe('users (e2e)', () => {
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

  it('creates a user and returns its API token once; only the SHA-256 of it is stored', async () => {
    const email = `${uniqueName('Ada')}@Example.com`;
    const res = await api.http.post('/users').set(admin).send({ email }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      isAdmin: false,
      maxDeployments: null,
      deploymentLimit: null,
      liveDeployments: 0,
      createdAt: expect.any(String),
      apiToken: expect.stringMatching(/^cae_[\w-]{43}$/),
    });

    const [row] = await db.query<{ api_token_hash: string; email: string }>(`select * from users where id = $1`, [res.body.id]);
    expect(row.api_token_hash).toBe(createHash('sha256').update(res.body.apiToken).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(res.body.apiToken);

    // The token works, and is never shown again.
    const self = await api.http.get(`/users/${res.body.id}`).set(bearer(res.body.apiToken)).expect(200);
    expect(self.body).toEqual({ id: res.body.id, email: email.toLowerCase(), isAdmin: false, maxDeployments: null, deploymentLimit: null, liveDeployments: 0, createdAt: res.body.createdAt });
    const listed = await api.http.get('/users?limit=100').set(admin).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(res.body.apiToken);
  });

  it('creates admins whose token reaches admin routes', async () => {
    const boss = await createUser(api, 'boss', true);
    await api.http.get('/users').set(bearer(boss.token)).expect(200);
    await api.http
      .post('/products')
      .set(bearer(boss.token))
      .send({ name: uniqueName('boss') })
      .expect(201);
  });

  it('refuses a taken e-mail, whatever its case, with a 409 on email', async () => {
    const u = await createUser(api, 'dup');
    const before = await db.snapshot();
    const res = await api.http.post('/users').set(admin).send({ email: u.email.toUpperCase() }).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, message: expect.stringMatching(/already exists/), fields: [{ field: 'email', message: 'is already taken' }] });
    expect(await db.snapshot()).toEqual(before);
  });

  describe('refuses bad input with a 400 that names the field and writes nothing', () => {
    it.each([
      ['no body', undefined, 'email'],
      ['an empty object', {}, 'email'],
      ['a number for email', { email: 42 }, 'email'],
      ['an array for email', { email: ['a@example.com'] }, 'email'],
      ['an invalid e-mail', { email: 'not-an-email' }, 'email'],
      ['an e-mail without a dot in the domain', { email: 'ada@localhost' }, 'email'],
      ['an e-mail over 254 characters', { email: `${'a'.repeat(64)}@${'b'.repeat(190)}.example.com` }, 'email'],
      ['a string for isAdmin', { email: 'x@example.com', isAdmin: 'true' }, 'isAdmin'],
      ['an unknown field', { email: 'x@example.com', role: 'admin' }, 'role'],
      ['an unknown apiToken field', { email: 'x@example.com', apiToken: 'mine' }, 'apiToken'],
      ['an array body', [{ email: 'x@example.com' }], '0'],
    ])('%s', async (_, body, field) => {
      const before = await db.snapshot();
      const req = api.http.post('/users').set(admin);
      const res = await (body === undefined ? req : req.send(body as object)).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(await db.snapshot()).toEqual(before);
    });
  });

  it('lists users in pages with limit and cursor, without repeats', async () => {
    for (let i = 0; i < 3; i++) await createUser(api, 'page');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.http
        .get('/users')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(admin)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u) => u.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10_000);
    expect(new Set(seen).size).toBe(seen.length);
    const [{ n }] = await db.query<{ n: string }>(`select count(*)::text as n from users where deleted_at is null`);
    expect(seen).toHaveLength(Number(n));
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['cursor=%24%24%24', 'cursor'],
    [`cursor=${Buffer.from('["2026-01-01T00:00:00Z","abc"]').toString('base64url')}`, 'cursor'],
    ['cursor=bm90LWpzb24', 'cursor'],
    ['sort=email', 'sort'],
  ])('refuses the query %s', async (query, field) => {
    const res = await api.http.get(`/users?${query}`).set(admin).expect(400);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('validates the userId parameter', async () => {
    for (const method of ['get', 'delete'] as const) {
      const res = await api.http[method]('/users/not-a-uuid').set(admin).expect(400);
      expect(res.body).toMatchObject({ message: 'userId must be a UUID', fields: [{ field: 'userId', message: 'must be a UUID' }] });
    }
    await api.http.get(`/users/${NIL_UUID}`).set(admin).expect(404);
  });

  it('deletes softly and idempotently; the token stops working and the e-mail is free again', async () => {
    const u = await createUser(api, 'leaver');
    await api.http.delete(`/users/${u.id}`).set(admin).expect(204);
    await api.http.delete(`/users/${u.id}`).set(admin).expect(204);
    const [row] = await db.query<{ deleted_at: Date | null }>(`select deleted_at from users where id = $1`, [u.id]);
    expect(row.deleted_at).toBeInstanceOf(Date);
    await api.http.get(`/users/${u.id}`).set(admin).expect(404);
    await api.http.get(`/users/${u.id}`).set(bearer(u.token)).expect(401);
    const again = await api.http.post('/users').set(admin).send({ email: u.email }).expect(201);
    expect(again.body.id).not.toBe(u.id);
  });

  it('refuses to delete a user who still has deployments (409)', async () => {
    const u = await createUser(api, 'busy');
    const catalog = await seedCatalog(api, 'usr', { '1.0.0': '1.0.0' });
    await api.http.post(`/users/${u.id}/deployments`).set(admin).send({ templateId: catalog.templates['1.0.0'], domainName: uniqueDomain() }).expect(202);
    const res = await api.http.delete(`/users/${u.id}`).set(admin).expect(409);
    expect(res.body.message).toMatch(/still has deployments/);
  });
});
