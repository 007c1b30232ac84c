import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the supervisor last swept, per task queue: every worker runs the supervisor, and this row
 * lets exactly one of them sweep per interval (workers claim the sweep with one atomic upsert).
 */
export class SupervisorSweeps1796041873042 implements MigrationInterface {
  name = 'SupervisorSweeps1796041873042';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE supervisor_sweeps (
        task_queue text PRIMARY KEY,
        last_swept_at timestamptz NOT NULL,
        last_swept_by text NOT NULL,
        sweeps bigint NOT NULL DEFAULT 0
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE supervisor_sweeps');
  }
}
