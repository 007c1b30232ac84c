import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client as TemporalClient, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { parse as parseYaml } from 'yaml';
import { migrate } from '../../scripts/migrate';
import { bearer, startTestApi, TestApi, uniqueName } from './api';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const NIL_UUID = '00000000-0000-4000-8000-000000000000';

/** The body of a POST …/templates for an example chart directory under charts/examples. */
export function exampleTemplate(chartVersion: string, version = chartVersion): Record<string, unknown> {
  const dir = join(REPO_ROOT, 'charts', 'examples', `webapp-${chartVersion}`);
  return {
    version,
    chartRef: dir,
    chartVersion,
    defaultValues: parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')),
    valuesSchema: JSON.parse(readFileSync(join(dir, 'values.schema.json'), 'utf8')),
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A database of the suite's own, migrated like caelus_test and dropped at the end, so that
 * "nothing was written" can be checked with plain row counts while other suites run.
 */
export async function createSuiteDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set (the jest global setup sets it)');
  const name = `caelus_e2e_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new PgClient({ connectionString: withDatabase(base, 'postgres') });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const url = withDatabase(base, name);
  await migrate('up', url, () => undefined);
  return { url, drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export interface E2eSuite {
  api: TestApi;
  db: TestDb;
  close(): Promise<void>;
}

/** The real API on a database of the suite's own (see createSuiteDatabase). */
export async function startSuite(env: Record<string, string> = {}): Promise<E2eSuite> {
  const database = await createSuiteDatabase();
  const api = await startTestApi({ DATABASE_URL: database.url, ...env });
  const db = await TestDb.connect(database.url);
  return {
    api,
    db,
    close: async () => {
      // Deployments made by the suite started workflows on its task queue, which no worker polls.
      await terminateWorkflows(await connectTemporal(), [], api.taskQueue);
      await db.close();
      await api.close();
      await database.drop();
    },
  };
}

/** Direct SQL on the test database, to check what the API wrote (or did not). */
export class TestDb {
  private constructor(private readonly client: PgClient) {}

  static async connect(url = process.env.TEST_DATABASE_URL): Promise<TestDb> {
    if (!url) throw new Error('TEST_DATABASE_URL is not set (the jest global setup sets it)');
    const client = new PgClient({ connectionString: url });
    await client.connect();
    return new TestDb(client);
  }

  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.client.query(sql, params).then((r) => r.rows as T[]);
  }

  /** Row counts and the latest update of every table: equal snapshots mean nothing was written. */
  async snapshot(): Promise<Record<string, string>> {
    const [row] = await this.query<Record<string, string>>(`
      select (select count(*) from users)::text as users,
             (select count(*) from products)::text as products,
             (select count(*) from template_versions)::text as template_versions,
             (select count(*) from deployments)::text as deployments,
             (select count(*) from deployment_events)::text as deployment_events,
             (select max(updated_at) from users)::text as users_updated,
             (select max(updated_at) from products)::text as products_updated,
             (select max(updated_at) from deployments)::text as deployments_updated,
             (select count(*) from template_versions where deleted_at is not null)::text as templates_deleted,
             (select count(*) from rollouts)::text as rollouts,
             (select count(*) from rollout_events)::text as rollout_events,
             (select max(updated_at) from rollouts)::text as rollouts_updated`);
    return row;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** The stack's Temporal, or null when it does not answer (then workflow checks are skipped). */
export async function connectTemporal(): Promise<TemporalClient | null> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  try {
    const connection = await Connection.connect({ address, connectTimeout: 3000 });
    await connection.withDeadline(Date.now() + 3000, () => connection.healthService.check({}));
    return new TemporalClient({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  } catch {
    process.stderr.write(`[e2e] Temporal at ${address} does not answer: workflow checks are skipped\n`);
    return null;
  }
}

/**
 * Terminates the workflows a suite started (no worker polls its task queue, so they would idle
 * forever): the ids given, and whatever visibility still lists as running on the task queue.
 */
export async function terminateWorkflows(client: TemporalClient | null, workflowIds: Iterable<string>, taskQueue?: string): Promise<void> {
  if (!client) return;
  const ids = new Set(workflowIds);
  if (taskQueue) {
    for await (const wf of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) ids.add(wf.workflowId);
  }
  for (const id of ids) {
    await client.workflow
      .getHandle(id)
      .terminate('end-to-end test finished')
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError) && !/already completed|not found/i.test(String((err as Error).message))) throw err;
      });
  }
  await client.connection.close();
}

export interface Catalog {
  productId: string;
  productName: string;
  /** Template ids by version. */
  templates: Record<string, string>;
}

/** A product named `<prefix>-<random>` with example-chart templates (version → chart version). */
export async function seedCatalog(api: TestApi, prefix: string, versions: Record<string, string>): Promise<Catalog> {
  const admin = bearer(api.adminToken);
  const productName = uniqueName(prefix);
  const product = await api.http.post('/products').set(admin).send({ name: productName, description: 'e2e' }).expect(201);
  const templates: Record<string, string> = {};
  for (const [version, chartVersion] of Object.entries(versions)) {
    const res = await api.http.post(`/products/${product.body.id}/templates`).set(admin).send(exampleTemplate(chartVersion, version)).expect(201);
    templates[version] = res.body.id;
  }
  return { productId: product.body.id, productName, templates };
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

export async function createUser(api: TestApi, prefix = 'user', isAdmin = false): Promise<TestUser> {
  const email = `${uniqueName(prefix)}@example.com`;
  const res = await api.http.post('/users').set(bearer(api.adminToken)).send({ email, isAdmin }).expect(201);
  return { id: res.body.id, email, token: res.body.apiToken };
}

export const uniqueDomain = (prefix = 'app') => `${uniqueName(prefix)}.apps.example.com`;
