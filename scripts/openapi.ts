import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { buildOpenApi, createApiApp } from '../apps/api/src/bootstrap';
import { repoRoot } from '../libs/config/src';

/** The committed OpenAPI document, at the repository root; an e2e test keeps it current. */
export const OPENAPI_FILE = 'openapi.json';

/** Object keys sorted at every level, so the file only changes when the API does. Arrays keep their order. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function renderOpenApi(app: INestApplication): string {
  return `${JSON.stringify(sortKeys(buildOpenApi(app as NestExpressApplication)), null, 2)}\n`;
}

/**
 * Writes openapi.json from the app's decorators. Run it compiled (`npm run openapi` builds first):
 * tsx does not emit the decorator metadata that Nest's DI and Swagger read.
 */
async function main(): Promise<void> {
  const app = await createApiApp({ logger: false });
  try {
    await app.init();
    const file = join(repoRoot(), OPENAPI_FILE);
    writeFileSync(file, renderOpenApi(app));
    console.log(`wrote ${file}`);
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`openapi: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
