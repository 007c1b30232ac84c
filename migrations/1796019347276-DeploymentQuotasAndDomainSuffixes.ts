import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A per-user limit on live deployments (NULL: the configured default applies) and a per-product
 * list of allowed domain suffixes (NULL: the configured global list applies). Additive only.
 */
export class DeploymentQuotasAndDomainSuffixes1796019347276 implements MigrationInterface {
  name = 'DeploymentQuotasAndDomainSuffixes1796019347276';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN max_deployments integer CHECK (max_deployments IS NULL OR max_deployments >= 0)`);
    await q.query(`ALTER TABLE products ADD COLUMN allowed_domain_suffixes text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE products DROP COLUMN allowed_domain_suffixes`);
    await q.query(`ALTER TABLE users DROP COLUMN max_deployments`);
  }
}
