import { randomBytes } from 'node:crypto';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createApiApp } from '../../apps/api/src/bootstrap';

export interface TestApi {
  app: NestExpressApplication;
  http: ReturnType<typeof request>;
  adminToken: string;
  taskQueue: string;
  close(): Promise<void>;
}

/**
 * The real API app on the test database and the stack's Temporal, listening on an ephemeral
 * port. Each suite gets its own task queue so workflows it starts never meet another suite's worker.
 */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  const taskQueue = env.CAELUS_TASK_QUEUE ?? `caelus-test-${randomBytes(4).toString('hex')}`;
  const overrides: Record<string, string> = {
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? '',
    CAELUS_ADMIN_TOKEN: adminToken,
    CAELUS_RATE_LIMIT: '1000000',
    // Suites read counts right after writing them; the probe-cache suite turns the cache back on.
    CAELUS_PROBE_CACHE_SECONDS: '0',
    CAELUS_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    ...env,
  };
  // process.env is shared by every suite of a run (--runInBand): restore it on close.
  const previous = Object.fromEntries(Object.keys(overrides).map((k) => [k, process.env[k]]));
  Object.assign(process.env, overrides);
  const restore = () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  const app = await createApiApp({ logger: false });
  await app.listen(0, '127.0.0.1');
  const http = request(app.getHttpServer());
  return {
    app,
    http,
    adminToken,
    taskQueue,
    close: async () => {
      await app.close();
      restore();
    },
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A throwaway database, migrated, for suites that must see only their own rows (the supervisor
 * adopts every unfinished deployment it finds). Returns its URL and a function that drops it.
 */
export async function createScratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client: PgClient } = await import('pg');
  const { migrate } = await import('../../scripts/migrate');
  const base = new URL(process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL!);
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new PgClient({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  await migrate('up', url.toString(), () => undefined);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new PgClient({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
