/**
 * Input edge cases through HTTP (issue 12 §5): keys named like Object.prototype members are kept,
 * the keys Nest would strip are refused, NUL in a value is a 400 that logs nothing of the value,
 * admin schemas are compiled strictly at publish, and /health and /metrics answer from a short
 * cache without echoing a backend's error text.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { bearer, startTestApi, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, exampleTemplate, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';

/** Everything the process writes to stdout and stderr while `fn` runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(String(chunk));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }),
  );
  try {
    await fn();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return chunks.join('');
}

describe('input edge cases (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let catalog: Catalog;
  let user: TestUser;
  let open: string;

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    catalog = await seedCatalog(api, 'edge', { '1.0.0': '1.0.0' });
    user = await createUser(api, 'edge');
    // The example schema with free-form user values.
    const body = exampleTemplate('1.0.0', '1.0.1');
    const schema = body.valuesSchema as { properties: { user: Record<string, unknown> } };
    schema.properties.user.additionalProperties = true;
    open = (await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(body).expect(201)).body.id;
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('keeps value keys named like Object.prototype members (toString, valueOf, hasOwnProperty)', async () => {
    const values = { title: 'kept', toString: 'a string', valueOf: { hasOwnProperty: [1, { isPrototypeOf: true }] } };
    const res = await api.http
      .post(`/users/${user.id}/deployments`)
      .set(bearer(user.token))
      .send({ templateId: open, domainName: uniqueDomain('edge'), values })
      .expect(202);
    expect(res.body.values).toEqual(values);
    expect((await api.http.get(`/users/${user.id}/deployments/${res.body.id}`).set(admin).expect(200)).body.values).toEqual(values);
    const [row] = await db.query<{ user_values: unknown }>(`select user_values from deployments where id = $1`, [res.body.id]);
    expect(row.user_values).toEqual(values);
  });

  it.each(['constructor', 'prototype'])('refuses the key %s in values with a 400 naming it, instead of dropping it', async (key) => {
    const before = await db.snapshot();
    const res = await api.http
      .post(`/users/${user.id}/deployments`)
      .set(bearer(user.token))
      .set('content-type', 'application/json')
      .send(`{"templateId": "${open}", "domainName": "${uniqueDomain('edge')}", "values": {"title": "x", "${key}": {"a": 1}}}`);
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: `values.${key}`, message: expect.stringMatching(/reserved key/) }]);
    expect(await db.snapshot()).toEqual(before);
  });

  it('answers NUL in a value with a 400 naming the field, and logs nothing of the value', async () => {
    const marker = `marker-${Date.now()}`;
    let status = 0;
    let fields: unknown;
    const output = await captureOutput(async () => {
      const res = await api.http
        .post(`/users/${user.id}/deployments`)
        .set(bearer(user.token))
        .send({ templateId: open, domainName: uniqueDomain('edge'), values: { title: `${marker}\u0000` } });
      status = res.status;
      fields = res.body.fields;
    });
    expect(status).toBe(400);
    expect(fields).toEqual([{ field: 'values.title', message: expect.stringMatching(/control characters/) }]);
    expect(output).not.toContain(marker);
  });

  it('refuses an unknown keyword in a published schema, naming it; x-caelus-secret and the example schemas still publish', async () => {
    const body = exampleTemplate('1.0.0', '1.0.2');
    (body.valuesSchema as { properties: Record<string, unknown> }).properties.replicas = { type: 'integer', maximun: 5 };
    const res = await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(body);
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ field: 'valuesSchema', message: expect.stringContaining('unknown keyword: "maximun"') }]);
    // seedCatalog published webapp-1.0.0's schema (which marks adminPassword x-caelus-secret); 1.1.0's too.
    await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(exampleTemplate('1.1.0', '1.1.0')).expect(201);
  });

  describe('/health and /metrics', () => {
    let probed: TestApi;

    let dir: string;

    beforeAll(async () => {
      // A Kubernetes API server that refuses connections; probe results cached as in production.
      dir = await mkdtemp(join(tmpdir(), 'caelus-probe-'));
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      probed = await startTestApi({ DATABASE_URL: process.env.TEST_DATABASE_URL!, KUBECONFIG: kubeconfig, CAELUS_PROBE_CACHE_SECONDS: '5' });
    });

    afterAll(async () => {
      await probed?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('says only "down" for a dependency that fails, not the driver text', async () => {
      const res = await probed.http.get('/health');
      expect(res.status).toBe(503);
      expect(res.body.details.kubernetes).toEqual({ status: 'down', message: 'down' });
      expect(res.body.details.database).toEqual({ status: 'up' });
      expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:1|connect|no answer/);
    });

    it('does database work at most once per cache interval however often it is probed or scraped', async () => {
      const ds = probed.app.get(DataSource);
      await new Promise((r) => setTimeout(r, 5100));
      const spy = jest.spyOn(ds, 'createQueryRunner');
      try {
        await Promise.all(Array.from({ length: 30 }, () => probed.http.get('/metrics').expect(200)));
        for (let i = 0; i < 20; i++) await probed.http.get('/metrics').expect(200);
        await Promise.all(Array.from({ length: 30 }, () => probed.http.get('/health')));
        for (let i = 0; i < 20; i++) await probed.http.get('/health');
        expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
      } finally {
        spy.mockRestore();
      }
    });
  });
});
