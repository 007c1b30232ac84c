import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Suspension of a deployment (issue 15): while `suspended_at` is set the workflow neither applies
 * nor corrects drift; `suspended_reason` is the optional note given with the suspend request.
 * Additive only (nullable columns, NULL: not suspended).
 */
export class DeploymentSuspension1796041107180 implements MigrationInterface {
  name = 'DeploymentSuspension1796041107180';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deployments ADD COLUMN suspended_at timestamptz`);
    await q.query(`ALTER TABLE deployments ADD COLUMN suspended_reason text CHECK (suspended_reason IS NULL OR length(suspended_reason) <= 300)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deployments DROP COLUMN suspended_reason`);
    await q.query(`ALTER TABLE deployments DROP COLUMN suspended_at`);
  }
}
