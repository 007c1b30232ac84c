// The migration that binds sealed values to their row and path, on the real Postgres: rows as
// the previous release wrote them (v1 envelopes, template defaults in clear) go up to bound
// envelopes and sealed defaults, down to exactly the old form, and up again.
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { loadEncryptionKeys } from '../../libs/config/src';
import { deploymentOwner, ENCRYPTED_KEY, SecretBox, templateOwner } from '../../libs/domain/src';
import { createDataSource } from '../../libs/persistence/src';
import { BindSealedValues1796020096774 } from '../../migrations/1796020096774-BindSealedValues';
import { createScratchDatabase } from '../support/api';

type Sealed = { [ENCRYPTED_KEY]: string };

describe(BindSealedValues1796020096774.name, () => {
  let scratch: { url: string; drop(): Promise<void> };
  let pg: PgClient;
  let ds: DataSource;
  const { encryptionKey, previousEncryptionKeys } = loadEncryptionKeys();
  const box = new SecretBox(encryptionKey, previousEncryptionKeys);
  const stranger = new SecretBox(Buffer.alloc(32, 0x5a));
  const ids = { product: randomUUID(), user: randomUUID(), template: randomUUID(), plainTemplate: randomUUID(), a: randomUUID(), b: randomUUID(), lost: randomUUID() };
  const schema = {
    type: 'object',
    properties: { smtp: { properties: { password: { type: 'string', 'x-caelus-secret': true } } }, user: { additionalProperties: { type: 'string', 'x-caelus-secret': true } } },
  };
  const defaults = { smtp: { password: 'smtp-Default-pw', host: 'mail' }, user: { adminPassword: 'admin-Default-pw' } };

  const sut = new BindSealedValues1796020096774();
  const run = async (direction: 'up' | 'down') => {
    const q = ds.createQueryRunner();
    await q.startTransaction();
    try {
      await sut[direction](q);
      await q.commitTransaction();
    } finally {
      await q.release();
    }
  };
  const values = async (id: string) => (await pg.query(`select user_values as v from deployments where id = $1`, [id])).rows[0].v;
  const templateDefaults = async (id: string) => (await pg.query(`select default_values as v from template_versions where id = $1`, [id])).rows[0].v;

  beforeAll(async () => {
    scratch = await createScratchDatabase('caelus_bind');
    pg = new PgClient({ connectionString: scratch.url });
    await pg.connect();
    ds = await createDataSource(scratch.url).initialize();
    await pg.query(`insert into users (id, email, api_token_hash) values ($1, 'bind@example.com', $2)`, [ids.user, randomUUID()]);
    await pg.query(`insert into products (id, name) values ($1, 'bind')`, [ids.product]);
    for (const [id, version, d, s] of [
      [ids.template, '1.0.0', defaults, schema],
      [ids.plainTemplate, '1.0.1', { user: { title: 'x' } }, { type: 'object' }],
    ] as const) {
      await pg.query(`insert into template_versions (id, product_id, version, chart_ref, chart_version, default_values, values_schema) values ($1, $2, $3, '/charts/x', '1.0.0', $4, $5)`, [
        id,
        ids.product,
        version,
        JSON.stringify(d),
        JSON.stringify(s),
      ]);
    }
    // What the previous release stored: v1 envelopes, bound to nothing.
    const rows: [string, Record<string, unknown>][] = [
      [ids.a, { title: 'plain', adminPassword: box.sealUnbound('pw-a'), tokens: [box.sealUnbound('t0'), 'plain'] }],
      [ids.b, { adminPassword: box.sealUnbound('pw-b') }],
      [ids.lost, { adminPassword: stranger.sealUnbound('no-key-opens-this') }],
    ];
    for (const [id, v] of rows) {
      await pg.query(`insert into deployments (id, user_id, product_id, deployment_uid, domain_name, desired_template_id, user_values) values ($1, $2, $3, $4, $5, $6, $7)`, [
        id,
        ids.user,
        ids.product,
        `bind-${id.slice(0, 8)}`,
        `${id.slice(0, 8)}.example.com`,
        ids.template,
        JSON.stringify(v),
      ]);
    }
  });

  afterAll(async () => {
    await ds?.destroy();
    await pg?.end();
    await scratch?.drop();
  });

  it('up binds every envelope to its deployment and path, and seals secret template defaults', async () => {
    const lostBefore = await values(ids.lost);
    await run('up');

    const a = await values(ids.a);
    expect(a.title).toBe('plain');
    expect(a.tokens[1]).toBe('plain');
    expect(a.adminPassword[ENCRYPTED_KEY]).toMatch(/^v2\./);
    expect(box.open(a.adminPassword, { ...deploymentOwner(ids.a), path: '/adminPassword' })).toBe('pw-a');
    expect(box.open(a.tokens[0], { ...deploymentOwner(ids.a), path: '/tokens/0' })).toBe('t0');
    // Bound: deployment b's envelope does not open as deployment a's.
    const b = await values(ids.b);
    expect(() => box.open(b.adminPassword as Sealed, { ...deploymentOwner(ids.a), path: '/adminPassword' })).toThrow(/does not open here/);
    // What no configured key opens is left alone.
    expect(await values(ids.lost)).toEqual(lostBefore);

    const t = await templateDefaults(ids.template);
    expect(JSON.stringify(t)).not.toMatch(/Default-pw/);
    expect(t.smtp.host).toBe('mail');
    expect(box.open(t.smtp.password, { ...templateOwner(ids.template), path: '/smtp/password' })).toBe('smtp-Default-pw');
    expect(box.open(t.user.adminPassword, { ...templateOwner(ids.template), path: '/user/adminPassword' })).toBe('admin-Default-pw');
    expect(await templateDefaults(ids.plainTemplate)).toEqual({ user: { title: 'x' } });
  });

  it('up again changes nothing', async () => {
    const before = [await values(ids.a), await values(ids.b), await templateDefaults(ids.template)];
    await run('up');
    expect([await values(ids.a), await values(ids.b), await templateDefaults(ids.template)]).toEqual(before);
  });

  it('down restores the old form: unbound v1 envelopes and template defaults in clear', async () => {
    await run('down');
    const a = await values(ids.a);
    expect(a.adminPassword[ENCRYPTED_KEY]).toMatch(/^v1\./);
    expect(box.open(a.adminPassword, { ...deploymentOwner(ids.a), path: '/adminPassword' }, { allowUnbound: true })).toBe('pw-a');
    expect(box.open(a.tokens[0], { ...deploymentOwner(ids.a), path: '/tokens/0' }, { allowUnbound: true })).toBe('t0');
    expect(await templateDefaults(ids.template)).toEqual(defaults);

    await run('up');
    expect(box.open((await values(ids.b)).adminPassword, { ...deploymentOwner(ids.b), path: '/adminPassword' })).toBe('pw-b');
  });
});
