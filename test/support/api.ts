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
  Object.assign(process.env, {
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL,
    CAELUS_ADMIN_TOKEN: adminToken,
    CAELUS_RATE_LIMIT: '1000000',
    CAELUS_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const app = await createApiApp({ logger: false });
  await app.listen(0, '127.0.0.1');
  const http = request(app.getHttpServer());
  return { app, http, adminToken, taskQueue, close: () => app.close() };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
