/** A scratch Postgres database per bench run: created, migrated with the built migrator, dropped. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { REPO } from './procs';

const run = promisify(execFile);

export interface ScratchDb {
  name: string;
  url: string;
  /** A connection for the bench's own reads (readiness polling, counts). */
  client: Client;
  drop(): Promise<void>;
}

export async function createScratchDb(baseUrl: string, name: string): Promise<ScratchDb> {
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  await run(process.execPath, [join(REPO, 'dist', 'scripts', 'migrate.js'), 'up'], { cwd: REPO, env: { ...process.env, DATABASE_URL: url.toString() } });
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return {
    name,
    url: url.toString(),
    client,
    drop: async () => {
      await client.end().catch(() => undefined);
      const c = new Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface DeploymentRow {
  id: string;
  deploymentUid: string;
  status: string;
  lastReconcileAt: number | null;
  lastDriftCheckAt: number | null;
}

export async function deploymentRows(db: ScratchDb, ids?: string[]): Promise<DeploymentRow[]> {
  const res = await db.client.query<{ id: string; deployment_uid: string; status: string; last_reconcile_at: Date | null; last_drift_check_at: Date | null }>(
    `SELECT id, deployment_uid, status, last_reconcile_at, last_drift_check_at FROM deployments${ids ? ' WHERE id = ANY($1)' : ''}`,
    ids ? [ids] : [],
  );
  return res.rows.map((r) => ({
    id: r.id,
    deploymentUid: r.deployment_uid,
    status: r.status,
    lastReconcileAt: r.last_reconcile_at?.getTime() ?? null,
    lastDriftCheckAt: r.last_drift_check_at?.getTime() ?? null,
  }));
}
