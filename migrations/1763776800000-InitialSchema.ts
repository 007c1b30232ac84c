import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, products, immutable template versions, deployments and their event timeline. */
export class InitialSchema1763776800000 implements MigrationInterface {
  name = 'InitialSchema1763776800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
        is_admin boolean NOT NULL DEFAULT false,
        api_token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_active_uq ON users (lower(email)) WHERE deleted_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX users_api_token_hash_uq ON users (api_token_hash)`);

    await q.query(`
      CREATE TABLE products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$'),
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX products_name_active_uq ON products (name) WHERE deleted_at IS NULL`);

    await q.query(`
      CREATE TABLE template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE RESTRICT,
        version text NOT NULL,
        chart_ref text NOT NULL,
        chart_version text NOT NULL,
        chart_digest text CHECK (chart_digest IS NULL OR chart_digest ~ '^sha256:[a-f0-9]{64}$'),
        default_values jsonb NOT NULL DEFAULT '{}'::jsonb,
        values_schema jsonb,
        capabilities jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT template_versions_product_version_uq UNIQUE (product_id, version)
      )`);

    await q.query(`
      CREATE TABLE deployments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE RESTRICT,
        deployment_uid text NOT NULL CHECK (deployment_uid ~ '^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$'),
        domain_name text NOT NULL,
        desired_template_id uuid NOT NULL REFERENCES template_versions(id) ON DELETE RESTRICT,
        applied_template_id uuid REFERENCES template_versions(id) ON DELETE RESTRICT,
        user_values jsonb NOT NULL DEFAULT '{}'::jsonb,
        generation integer NOT NULL DEFAULT 1 CHECK (generation >= 1),
        observed_generation integer NOT NULL DEFAULT 0 CHECK (observed_generation >= 0 AND observed_generation <= generation),
        status text NOT NULL DEFAULT 'provisioning'
          CHECK (status IN ('provisioning', 'ready', 'upgrading', 'degraded', 'error', 'deleting', 'deleted')),
        last_error text,
        last_reconcile_at timestamptz,
        last_drift_check_at timestamptz,
        drift_summary jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT deployments_deployment_uid_uq UNIQUE (deployment_uid),
        CONSTRAINT deployments_deleted_status_ck CHECK (status <> 'deleted' OR deleted_at IS NOT NULL)
      )`);
    // A domain stays reserved until its deployment is really gone from the cluster.
    await q.query(`CREATE UNIQUE INDEX deployments_domain_active_uq ON deployments (lower(domain_name)) WHERE status <> 'deleted'`);
    await q.query(`CREATE INDEX deployments_user_created_idx ON deployments (user_id, created_at, id)`);
    await q.query(`CREATE INDEX deployments_status_idx ON deployments (status)`);

    await q.query(`
      CREATE TABLE deployment_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
        generation integer NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        message text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX deployment_events_deployment_idx ON deployment_events (deployment_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE deployment_events`);
    await q.query(`DROP TABLE deployments`);
    await q.query(`DROP TABLE template_versions`);
    await q.query(`DROP TABLE products`);
    await q.query(`DROP TABLE users`);
  }
}
