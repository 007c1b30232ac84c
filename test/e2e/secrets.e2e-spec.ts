// Secrets through HTTP (no worker: nothing is applied): a client-made `$caelusEncrypted` is a
// 400 naming the field and writes nothing; secrets under schema constructs beyond `properties`
// and secret template defaults are sealed in the rows, bound to their owner, and redacted in
// every response.
import { randomBytes } from 'node:crypto';
import { loadEncryptionKeys } from '../../libs/config/src';
import { SecretBox } from '../../libs/domain/src';
import { bearer, TestApi } from '../support/api';
import { Catalog, createUser, E2eSuite, exampleTemplate, seedCatalog, startSuite, TestDb, TestUser, uniqueDomain } from '../support/e2e';

const ENVELOPE = '$caelusEncrypted';
const SECRET = `S3cret-${randomBytes(8).toString('hex')}`;
const DEFAULT_SECRET = `Default-${randomBytes(8).toString('hex')}`;

describe('secrets (e2e)', () => {
  let suite: E2eSuite;
  let api: TestApi;
  let db: TestDb;
  let admin: Record<string, string>;
  let alice: TestUser;
  let catalog: Catalog;
  let secretTemplate: string;
  const responses: string[] = [];
  const box = (() => {
    const { encryptionKey, previousEncryptionKeys } = loadEncryptionKeys();
    return new SecretBox(encryptionKey, previousEncryptionKeys);
  })();

  beforeAll(async () => {
    suite = await startSuite();
    ({ api, db } = suite);
    admin = bearer(api.adminToken);
    alice = await createUser(api, 'alice');
    catalog = await seedCatalog(api, 'secrets', { '1.0.0': '1.0.0' });
    const base = exampleTemplate('1.0.0', '1.5.0');
    const schema = base.valuesSchema as { properties: { user: { properties: Record<string, unknown> } } };
    // Secrets beyond `properties`: a map of API keys (additionalProperties) and tokens (items), and a secret default.
    schema.properties.user.properties.apiKeys = { type: 'object', additionalProperties: { $ref: '#/definitions/secret' } };
    schema.properties.user.properties.tokens = { type: 'array', items: { $ref: '#/definitions/secret' } };
    (schema as unknown as { definitions: Record<string, unknown> }).definitions.secret = { type: 'string', 'x-caelus-secret': true };
    const defaults = base.defaultValues as { user: Record<string, unknown> };
    defaults.user.adminPassword = DEFAULT_SECRET;
    const t = await api.http.post(`/products/${catalog.productId}/templates`).set(admin).send(base).expect(201);
    responses.push(t.text);
    secretTemplate = t.body.id;
  });

  afterAll(async () => {
    await suite?.close();
    expect(responses.filter((r) => r.includes(SECRET) || r.includes(DEFAULT_SECRET))).toEqual([]);
  });

  it.each([
    ['a made-up envelope', { adminPassword: { [ENVELOPE]: 'v2.00000000.AAAA.AAAA.AAAA' } }, '/user/adminPassword/$caelusEncrypted'],
    ['the key at the top of the values', { [ENVELOPE]: 'x' }, '/user/$caelusEncrypted'],
    ['an envelope in an array', { title: 'x', tokens: ['a', { [ENVELOPE]: 'x' }] }, '/user/tokens/1/$caelusEncrypted'],
  ])('answers 400 to %s in values, writing nothing', async (_what, values, field) => {
    const before = await db.snapshot();
    const res = await api.http.post(`/users/${alice.id}/deployments`).set(bearer(alice.token)).send({ templateId: secretTemplate, domainName: uniqueDomain(), values });
    expect(res.status).toBe(400);
    expect(res.body.fields).toContainEqual({ field, message: expect.stringMatching(/reserved/) });
    expect(await db.snapshot()).toEqual(before);
  });

  it.each([
    ['defaultValues', { defaultValues: { user: { adminPassword: { [ENVELOPE]: 'x' } } } }, 'defaultValues/user/adminPassword/$caelusEncrypted'],
    ['valuesSchema', { valuesSchema: { type: 'object', properties: { [ENVELOPE]: { type: 'string' } } } }, 'valuesSchema/properties/$caelusEncrypted'],
  ])('answers 400 to the key in a template %s, writing nothing', async (_where, over, field) => {
    const before = await db.snapshot();
    const res = await api.http
      .post(`/products/${catalog.productId}/templates`)
      .set(admin)
      .send({ ...exampleTemplate('1.0.0', `1.6.${randomBytes(1)[0]}`), ...over });
    expect(res.status).toBe(400);
    expect(res.body.fields).toContainEqual({ field, message: expect.stringMatching(/reserved/) });
    expect(await db.snapshot()).toEqual(before);
  });

  it('seals secret template defaults bound to the template, and shows them redacted', async () => {
    const [row] = await db.query<{ v: { user: { adminPassword: { [ENVELOPE]: string } } }; t: string }>(
      `select default_values as v, row_to_json(x)::text as t from template_versions x where id = $1`,
      [secretTemplate],
    );
    expect(row.t).not.toContain(DEFAULT_SECRET);
    expect(box.open(row.v.user.adminPassword, { owner: 'template', id: secretTemplate, path: '/user/adminPassword' })).toBe(DEFAULT_SECRET);
    const one = await api.http.get(`/products/${catalog.productId}/templates/${secretTemplate}`).set(bearer(alice.token)).expect(200);
    const list = await api.http.get(`/products/${catalog.productId}/templates`).set(bearer(alice.token)).expect(200);
    responses.push(one.text, list.text);
    expect(one.body.defaultValues.user.adminPassword).toBe('[redacted]');
    expect(list.body.items.find((t: { id: string }) => t.id === secretTemplate).defaultValues.user.adminPassword).toBe('[redacted]');
  });

  it('seals secrets under additionalProperties and items, bound to the deployment, and redacts them', async () => {
    const res = await api.http
      .post(`/users/${alice.id}/deployments`)
      .set(bearer(alice.token))
      .send({ templateId: secretTemplate, domainName: uniqueDomain(), values: { title: 'visible', adminPassword: SECRET, apiKeys: { stripe: `${SECRET}-k` }, tokens: [`${SECRET}-t`] } })
      .expect(202);
    responses.push(res.text);
    expect(res.body.values).toEqual({ title: 'visible', adminPassword: '[redacted]', apiKeys: { stripe: '[redacted]' }, tokens: ['[redacted]'] });
    const [row] = await db.query<{ v: Record<string, never>; t: string }>(`select user_values as v, row_to_json(x)::text as t from deployments x where id = $1`, [res.body.id]);
    expect(row.t).not.toContain(SECRET);
    const at = (path: string) => ({ owner: 'deployment' as const, id: res.body.id as string, path });
    expect(box.open((row.v.apiKeys as Record<string, never>).stripe, at('/apiKeys/stripe'))).toBe(`${SECRET}-k`);
    expect(box.open((row.v.tokens as never[])[0], at('/tokens/0'))).toBe(`${SECRET}-t`);
    expect(() => box.open((row.v.tokens as never[])[0], at('/apiKeys/stripe'))).toThrow(/does not open here/);
    const events = await api.http.get(`/users/${alice.id}/deployments/${res.body.id}/events`).set(bearer(alice.token)).expect(200);
    responses.push(events.text);
  });
});
