// GET /deployments: every user's deployments for admins, in pages, with filters, names and
// counts; bad filters are 400s, a user is refused, secrets stay redacted.
import { randomBytes } from 'node:crypto';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';

interface Listed {
  id: string;
  userId: string;
  productId: string;
  status: string;
  desiredTemplateId: string;
  createdAt: string;
  values: Record<string, unknown>;
  ownerEmail: string | null;
  productName: string | null;
  desiredTemplateVersion: string | null;
  appliedTemplateVersion: string | null;
}
interface AllPage {
  items: Listed[];
  nextCursor: string | null;
  counts: {
    total: number;
    byStatus: { status: string; count: number }[];
    byProduct: { productId: string; productName: string; count: number }[];
    byTemplate: { templateId: string; productId: string; productName: string; version: string; count: number }[];
  };
}

const SECRET = `S3cret-${randomBytes(8).toString('hex')}`;

describe('GET /deployments (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let alice: TestUser;
  let bob: TestUser;
  let web: Catalog;
  let other: Catalog;
  const made: Record<string, string> = {};

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    alice = await createUser(api, 'alice');
    bob = await createUser(api, 'bob');
    web = await seedCatalog(api, 'web', { '1.0.0': '1.0.0', '1.1.0': '1.1.0' });
    other = await seedCatalog(api, 'other', { '3.0.0': '1.1.0' });
    const create = async (name: string, user: TestUser, templateId: string) => {
      const res = await api.http
        .post(`/users/${user.id}/deployments`)
        .set(admin)
        .send({ templateId, domainName: uniqueDomain(name), values: { title: name, adminPassword: SECRET } })
        .expect(202);
      made[name] = res.body.id;
    };
    await create('a1', alice, web.templates['1.0.0']);
    await create('a2', alice, web.templates['1.0.0']);
    await create('b1', bob, web.templates['1.1.0']);
    await create('b2', bob, other.templates['3.0.0']);
    await create('gone', bob, other.templates['3.0.0']);
    await create('leaving', alice, web.templates['1.1.0']);
    // What the workflow would have written (no worker polls the suite's task queue).
    await db.query(`UPDATE deployments SET status = 'error', last_error = 'helm: failed' WHERE id = $1`, [made.a2]);
    await db.query(`UPDATE deployments SET status = 'deleted', deleted_at = now() WHERE id = $1`, [made.gone]);
    await api.http.delete(`/users/${alice.id}/deployments/${made.leaving}`).set(admin).expect(202);
  });

  afterAll(async () => {
    await suite?.close();
  });

  const list = async (query = ''): Promise<AllPage> => {
    const res = await api.http.get(`/deployments${query}`).set(admin).expect(200);
    expect(res.text).not.toContain(SECRET);
    return res.body;
  };
  const ids = (p: AllPage) => p.items.map((d) => d.id);

  it("lists every user's live deployments, oldest first, with owner, product and versions", async () => {
    const page = await list();
    // `deleting` is listed (its deleted_at is set), `deleted` is not.
    expect(ids(page)).toEqual([made.a1, made.a2, made.b1, made.b2, made.leaving]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toMatchObject({
      userId: alice.id,
      ownerEmail: alice.email,
      productId: web.productId,
      productName: web.productName,
      desiredTemplateId: web.templates['1.0.0'],
      desiredTemplateVersion: '1.0.0',
      appliedTemplateVersion: null,
      status: 'provisioning',
      values: { title: 'a1', adminPassword: '[redacted]' },
    });
    expect(page.items.map((d) => d.status)).toEqual(['provisioning', 'error', 'provisioning', 'provisioning', 'deleting']);
    expect(page.items.map((d) => d.ownerEmail)).toEqual([alice.email, alice.email, bob.email, bob.email, alice.email]);
  });

  it('counts per status, product and desired template version over all pages', async () => {
    const counts = (await list('?limit=1')).counts;
    expect(counts.total).toBe(5);
    expect(counts.byStatus).toEqual([
      { status: 'provisioning', count: 3 },
      { status: 'deleting', count: 1 },
      { status: 'error', count: 1 },
    ]);
    expect(counts.byProduct).toEqual([
      { productId: web.productId, productName: web.productName, count: 4 },
      { productId: other.productId, productName: other.productName, count: 1 },
    ]);
    expect(counts.byTemplate).toHaveLength(3);
    expect(counts.byTemplate).toEqual(
      expect.arrayContaining([
        { templateId: web.templates['1.0.0'], productId: web.productId, productName: web.productName, version: '1.0.0', count: 2 },
        { templateId: web.templates['1.1.0'], productId: web.productId, productName: web.productName, version: '1.1.0', count: 2 },
        { templateId: other.templates['3.0.0'], productId: other.productId, productName: other.productName, version: '3.0.0', count: 1 },
      ]),
    );
  });

  it('pages with cursors, each page carrying the same counts', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: AllPage = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.counts.total).toBe(5);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([made.a1, made.a2, made.b1, made.b2, made.leaving]);
  });

  it('filters by status, product and desired template, and counts what the filter matches', async () => {
    const errors = await list('?status=error');
    expect(ids(errors)).toEqual([made.a2]);
    expect(errors.counts).toMatchObject({ total: 1, byStatus: [{ status: 'error', count: 1 }] });
    expect(ids(await list('?status=deleted'))).toEqual([made.gone]);
    expect(ids(await list(`?productId=${other.productId}`))).toEqual([made.b2]);
    const v11 = await list(`?templateId=${web.templates['1.1.0']}`);
    expect(ids(v11)).toEqual([made.b1, made.leaving]);
    expect(v11.counts.byTemplate).toEqual([{ templateId: web.templates['1.1.0'], productId: web.productId, productName: web.productName, version: '1.1.0', count: 2 }]);
    const none = await list(`?productId=${other.productId}&templateId=${web.templates['1.0.0']}`);
    expect(none).toEqual({ items: [], nextCursor: null, counts: { total: 0, byStatus: [], byProduct: [], byTemplate: [] } });
    expect((await list('?limit=1000')).items).toHaveLength(5);
  });

  it.each([
    ['limit=1001', 'limit'],
    ['limit=0', 'limit'],
    ['limit=ten', 'limit'],
    ['status=sleeping', 'status'],
    ['productId=not-a-uuid', 'productId'],
    ['templateId=1', 'templateId'],
    ['cursor=%21%21', 'cursor'],
    ['cursor=abc', 'cursor'],
    ['userId=x', 'userId'],
  ])('answers ?%s with a 400 naming %s', async (query, field) => {
    const res = await api.http.get(`/deployments?${query}`).set(admin).expect(400);
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('is for admins only: a user gets 403 whatever the filter, an admin user 200', async () => {
    for (const q of ['', `?productId=${web.productId}`, '?limit=bad']) {
      const res = await api.http.get(`/deployments${q}`).set(bearer(alice.token)).expect(403);
      expect(res.body.message).toBe('this route is for admins only');
    }
    await api.http.get('/deployments').expect(401);
    const adminUser = await createUser(api, 'boss', true);
    expect((await api.http.get('/deployments').set(bearer(adminUser.token)).expect(200)).body.counts.total).toBe(5);
  });
});
