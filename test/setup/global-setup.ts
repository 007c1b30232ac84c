// Jest globalSetup for the integration and e2e projects: the same code as
// `npm run stack:up`, so a fresh machine needs nothing else before `npm test`.
import { migrate } from '../../scripts/migrate';
import { ensureStack } from '../../scripts/stack';

export default async function globalSetup(): Promise<void> {
  const env = await ensureStack({ log: (line) => process.stderr.write(`[stack] ${line}\n`) });
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
  // Tests own the caelus_test database; the app database is left to `npm run dev`.
  process.env.DATABASE_URL = env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = env.TEST_DATABASE_URL;

  // Migrations run once per test run, as in production: up to the latest, never synchronize.
  await migrate('up', env.TEST_DATABASE_URL, (line) => process.stderr.write(`[migrate] ${line}\n`));
}
