import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Health of a deployment's workloads beyond install time (issue 15): the latest assessment the
 * worker recorded (status, the object named as the reason, the generation it is about, since
 * when). The `degraded` status already exists. Additive only (nullable column, NULL: not assessed).
 */
export class DeploymentHealth1796043000000 implements MigrationInterface {
  name = 'DeploymentHealth1796043000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deployments ADD COLUMN health jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deployments DROP COLUMN health`);
  }
}
