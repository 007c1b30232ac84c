import { DataSource } from 'typeorm';

/**
 * The supervisor's schedule in Postgres: any number of workers ask often, and one atomic upsert
 * lets exactly one of them sweep once the interval has passed since the last sweep. The
 * database's clock decides, so workers' clocks may disagree.
 */
export class SupervisorSweepsRepository {
  constructor(private readonly db: DataSource) {}

  /** The number of this sweep when the caller may sweep now (the last one is an interval old); undefined otherwise. */
  async claim(taskQueue: string, intervalSeconds: number, worker: string): Promise<number | undefined> {
    const rows: { sweeps: string }[] = await this.db.query(
      `INSERT INTO supervisor_sweeps (task_queue, last_swept_at, last_swept_by, sweeps) VALUES ($1, now(), $3, 1)
       ON CONFLICT (task_queue) DO UPDATE SET last_swept_at = now(), last_swept_by = $3, sweeps = supervisor_sweeps.sweeps + 1
         WHERE supervisor_sweeps.last_swept_at <= now() - make_interval(secs => $2)
       RETURNING sweeps::text AS sweeps`,
      [taskQueue, intervalSeconds, worker],
    );
    return rows.length ? Number(rows[0].sweeps) : undefined;
  }
}
