import 'reflect-metadata';
import { loadConfig } from '../libs/config/src';
import { createDataSource } from '../libs/persistence/src';

/** `migrate up` applies pending migrations; `migrate down` reverts the last one. */
export async function migrate(direction: 'up' | 'down', databaseUrl = loadConfig().databaseUrl, log: (line: string) => void = console.log): Promise<void> {
  const db = await createDataSource(databaseUrl).initialize();
  try {
    if (direction === 'up') {
      const applied = await db.runMigrations({ transaction: 'each' });
      log(applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'database is up to date');
    } else {
      await db.undoLastMigration({ transaction: 'each' });
      log('reverted the last migration');
    }
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  const direction = process.argv[2] === 'down' ? 'down' : 'up';
  migrate(direction).catch((err) => {
    console.error(`migration ${direction} failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
