/**
 * Allowed domain suffixes (CAELUS_ALLOWED_DOMAIN_SUFFIXES, and a product's own list set by an
 * admin), and a taken name answered as "not available" without naming its owner.
 */
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, seedCatalog, startSuite, TestDb, TestUser } from '../support/e2e';

describe('domain names (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let catalog: Catalog;
  let alice: TestUser;
  let bob: TestUser;
  let n = 0;

  const create = (user: TestUser, domainName: string) => api.http.post(`/users/${user.id}/deployments`).set(bearer(user.token)).send({ templateId: catalog.templates['1.0.0'], domainName });
  const label = () => `d${Date.now().toString(36)}${n++}`;

  beforeAll(async () => {
    suite = await startSuite({ CAELUS_ALLOWED_DOMAIN_SUFFIXES: 'apps.example.com,*.tenants.example.net' });
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    catalog = await seedCatalog(api, 'domains', { '1.0.0': '1.0.0' });
    alice = await createUser(api, 'alice');
    bob = await createUser(api, 'bob');
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('accepts names under the global suffixes and refuses others with a 400 naming the suffixes, writing nothing', async () => {
    await create(alice, `${label()}.apps.example.com`).expect(202);
    await create(alice, `${label()}.x.tenants.example.net`).expect(202);
    for (const bad of [`${label()}.example.com`, `${label()}apps.example.com`, 'apps.example.com', `${label()}.apps.example.com.evil.io`]) {
      const before = await db.snapshot();
      const res = await create(alice, bad);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message: 'domainName must be a name under .apps.example.com, .tenants.example.net',
        fields: [{ field: 'domainName', message: expect.stringMatching(/^must end in one of/) }],
      });
      expect(await db.snapshot()).toEqual(before);
    }
  });

  it('lets an admin give a product its own list, which replaces the global one, and clear it again', async () => {
    const put = await api.http
      .put(`/products/${catalog.productId}`)
      .set(admin)
      .send({ allowedDomainSuffixes: ['*.Shop.Example.org'] })
      .expect(200);
    expect(put.body.allowedDomainSuffixes).toEqual(['shop.example.org']);
    await create(alice, `${label()}.shop.example.org`).expect(202);
    expect((await create(alice, `${label()}.apps.example.com`)).body.message).toBe('domainName must be a name under .shop.example.org');

    await api.http
      .put(`/products/${catalog.productId}`)
      .set(admin)
      .send({ allowedDomainSuffixes: ['not a suffix'] })
      .expect(400);
    await api.http
      .put(`/products/${catalog.productId}`)
      .set(bearer(alice.token))
      .send({ allowedDomainSuffixes: ['evil.io'] })
      .expect(403);
    expect((await api.http.put(`/products/${catalog.productId}`).set(admin).send({ allowedDomainSuffixes: null }).expect(200)).body.allowedDomainSuffixes).toBeNull();
    await create(alice, `${label()}.apps.example.com`).expect(202);

    const p = await api.http
      .post('/products')
      .set(admin)
      .send({ name: `own-${label()}`, allowedDomainSuffixes: ['own.example.com'] })
      .expect(201);
    expect(p.body.allowedDomainSuffixes).toEqual(['own.example.com']);
  });

  it("answers a taken name with 409 'not available', without saying whose it is", async () => {
    const name = `${label()}.apps.example.com`;
    const mine = await create(alice, name).expect(202);
    const res = await create(bob, name);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ message: `domain name ${name} is not available: it is already used`, fields: [{ field: 'domainName', message: 'is not available' }] });
    expect(JSON.stringify(res.body)).not.toContain(alice.id);
    expect(JSON.stringify(res.body)).not.toContain(alice.email);
    expect(JSON.stringify(res.body)).not.toContain(mine.body.id);
    expect(JSON.stringify(res.body)).not.toContain(mine.body.deploymentUid);
  });
});
