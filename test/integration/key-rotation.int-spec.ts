// Encryption key rotation end to end on a scratch database: values sealed by the API with the
// old key (bound to their deployment, or template, and path) are re-sealed by
// scripts/rotate-encryption-key.ts, still bound, and then open with the new key alone.
import { Client as PgClient } from 'pg';
import { ENCRYPTED_KEY, SecretBinding, SecretBox } from '../../libs/domain/src';
import { rotateEncryptionKey } from '../../scripts/rotate-encryption-key';
import { bearer, createScratchDatabase, startTestApi, uniqueName } from '../support/api';
import { connectTemporal, terminateWorkflows } from '../support/e2e';
import { exampleChart, seedCatalog } from '../support/lifecycle';

const OLD = '11'.repeat(32);
const NEW = '22'.repeat(32);
const PASSWORD = 'rotate-me-Secret-1';
const DEFAULT_PASSWORD = 'template-Default-Secret-1';

describe('encryption key rotation', () => {
  let scratch: { url: string; drop(): Promise<void> };
  const saved = { key: process.env.CAELUS_ENCRYPTION_KEY, previous: process.env.CAELUS_PREVIOUS_ENCRYPTION_KEYS };
  let taskQueue: string;
  let workflowId: string;
  let deploymentId: string;
  let templateId: string;
  const binding = (): SecretBinding => ({ owner: 'deployment', id: deploymentId, path: '/adminPassword' });
  const templateBinding = (): SecretBinding => ({ owner: 'template', id: templateId, path: '/user/adminPassword' });
  const storedDefault = async () => {
    const pg = new PgClient({ connectionString: scratch.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(`select default_values from template_versions where id = $1`, [templateId]);
      return rows[0].default_values.user.adminPassword as { [ENCRYPTED_KEY]: string };
    } finally {
      await pg.end();
    }
  };

  const storedPassword = async () => {
    const pg = new PgClient({ connectionString: scratch.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(`select user_values from deployments`);
      return rows.map((r) => r.user_values.adminPassword as { [ENCRYPTED_KEY]: string });
    } finally {
      await pg.end();
    }
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase('rotation');
    const api = await startTestApi({ DATABASE_URL: scratch.url, CAELUS_ENCRYPTION_KEY: OLD });
    taskQueue = api.taskQueue;
    try {
      const seed = await seedCatalog(api, uniqueName('rotation'), ['1.0.0']);
      const res = await api.http
        .post(`/users/${seed.userId}/deployments`)
        .set(bearer(seed.userToken))
        .send({ templateId: seed.templates['1.0.0'], domainName: `${uniqueName('rot')}.example.com`, values: { adminPassword: PASSWORD } })
        .expect(202);
      workflowId = res.body.workflow.id;
      deploymentId = res.body.id;
      // A template whose default admin password is secret: sealed with the old key, bound to the template.
      const chart = exampleChart('1.0.0');
      const withDefault = await api.http
        .post(`/products/${seed.productId}/templates`)
        .set(bearer(api.adminToken))
        .send({ version: '1.0.1', ...chart, defaultValues: { ...chart.defaultValues, user: { ...(chart.defaultValues.user as object), adminPassword: DEFAULT_PASSWORD } } })
        .expect(201);
      expect(withDefault.body.defaultValues.user.adminPassword).toBe('[redacted]');
      templateId = withDefault.body.id;
    } finally {
      await api.close();
    }
  });

  afterAll(async () => {
    for (const [k, v] of [
      ['CAELUS_ENCRYPTION_KEY', saved.key],
      ['CAELUS_PREVIOUS_ENCRYPTION_KEYS', saved.previous],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // No worker polls the suite's task queue: end the workflow the deployment started.
    await terminateWorkflows(await connectTemporal(), workflowId ? [workflowId] : [], taskQueue);
    await scratch?.drop();
  });

  it('re-seals with the new key what the old key sealed, idempotently, and logs no value', async () => {
    const [before] = await storedPassword();
    expect(new SecretBox(Buffer.from(OLD, 'hex')).open(before, binding())).toBe(PASSWORD);
    expect(new SecretBox(Buffer.from(OLD, 'hex')).open(await storedDefault(), templateBinding())).toBe(DEFAULT_PASSWORD);

    process.env.CAELUS_ENCRYPTION_KEY = NEW;
    process.env.CAELUS_PREVIOUS_ENCRYPTION_KEYS = OLD;
    const lines: string[] = [];
    await expect(rotateEncryptionKey((l) => lines.push(l), scratch.url)).resolves.toEqual({
      scanned: 1,
      updated: 1,
      values: 1,
      failed: [],
      templates: { scanned: 2, updated: 1, values: 1, failed: [] },
    });
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(DEFAULT_PASSWORD);

    const [after] = await storedPassword();
    const newOnly = new SecretBox(Buffer.from(NEW, 'hex'));
    expect(newOnly.open(after, binding())).toBe(PASSWORD);
    expect(after[ENCRYPTED_KEY].split('.')[1]).toBe(newOnly.currentKeyId);
    // Still bound: re-sealed for this deployment and field only.
    expect(after[ENCRYPTED_KEY]).toMatch(/^v2\./);
    expect(() => newOnly.open(after, { ...binding(), id: templateId })).toThrow(/does not open here/);
    const afterDefault = await storedDefault();
    expect(newOnly.open(afterDefault, templateBinding())).toBe(DEFAULT_PASSWORD);
    expect(() => newOnly.open(afterDefault, { ...templateBinding(), owner: 'deployment' })).toThrow(/does not open here/);

    await expect(rotateEncryptionKey(() => undefined, scratch.url)).resolves.toMatchObject({ scanned: 1, updated: 0, templates: { updated: 0 } });
  });

  it('reports, and does not change, values that no configured key opens', async () => {
    process.env.CAELUS_ENCRYPTION_KEY = '33'.repeat(32);
    delete process.env.CAELUS_PREVIOUS_ENCRYPTION_KEYS;
    const report = await rotateEncryptionKey(() => undefined, scratch.url);
    expect(report).toMatchObject({ scanned: 1, updated: 0, failed: [{ reason: 'secret was sealed with another key' }] });
    const [still] = await storedPassword();
    expect(new SecretBox(Buffer.from(NEW, 'hex')).open(still, binding())).toBe(PASSWORD);
  });
});
