import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Response } from 'express';

/**
 * Where `npm run build` puts the console (dist/console), seen from the compiled API
 * (dist/apps/api/src/console) and from the sources (apps/api/src/console, tests and tsx).
 */
export function findConsoleDir(): string | undefined {
  const candidates = [resolve(__dirname, '..', '..', '..', '..', 'console'), resolve(__dirname, '..', '..', '..', '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * Serves the web console's static files at `/`. Only files that exist are answered, so the REST
 * routes, /docs, /health and /metrics are untouched; the console routes in the URL fragment
 * (#/…), which never reaches the server. Hashed assets are cached for a year, index.html never.
 */
export function serveConsole(app: NestExpressApplication, dir = findConsoleDir()): boolean {
  if (!dir || !existsSync(join(dir, 'index.html'))) return false;
  app.useStaticAssets(dir, {
    index: 'index.html',
    redirect: false,
    fallthrough: true,
    setHeaders: (res: Response, path: string) => {
      if (path.startsWith(join(dir, 'assets'))) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'no-cache');
    },
  });
  return true;
}
