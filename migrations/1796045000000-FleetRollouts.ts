import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet rollouts (issue 15): one row per rollout, one row per selected deployment (its wave and
 * where it stands), and the rollout's own event timeline. The member rows keep a rollout of
 * thousands of deployments out of the workflow's history. At most one rollout per product is
 * running or paused: a partial unique index enforces it, so two concurrent requests cannot both
 * start one. Additive only (new tables).
 */
export class FleetRollouts1796045000000 implements MigrationInterface {
  name = 'FleetRollouts1796045000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollouts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE RESTRICT,
        to_template_id uuid NOT NULL REFERENCES template_versions(id) ON DELETE RESTRICT,
        from_template_ids uuid[],
        waves jsonb NOT NULL,
        wave_ends integer[],
        total integer,
        max_failures integer NOT NULL DEFAULT 0 CHECK (max_failures >= 0),
        health_timeout_seconds integer NOT NULL CHECK (health_timeout_seconds > 0),
        pause_between_waves_seconds integer NOT NULL DEFAULT 0 CHECK (pause_between_waves_seconds >= 0),
        approval text NOT NULL DEFAULT 'auto' CHECK (approval IN ('auto', 'manual')),
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'succeeded', 'failed', 'aborted')),
        current_wave integer,
        reason text CHECK (reason IS NULL OR length(reason) <= 1000),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX rollouts_product_active_uq ON rollouts (product_id) WHERE status IN ('running', 'paused')`);
    await q.query(`CREATE INDEX rollouts_product_created_idx ON rollouts (product_id, created_at, id)`);

    await q.query(`
      CREATE TABLE rollout_members (
        rollout_id uuid NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
        deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
        position integer NOT NULL,
        wave integer NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'upgrading', 'upgraded', 'failed', 'skipped')),
        target_generation integer,
        started_at timestamptz,
        reason text CHECK (reason IS NULL OR length(reason) <= 1000),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rollout_id, deployment_id)
      )`);
    await q.query(`CREATE INDEX rollout_members_wave_idx ON rollout_members (rollout_id, wave, state, position)`);

    await q.query(`
      CREATE TABLE rollout_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rollout_id uuid NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
        type text NOT NULL,
        actor text NOT NULL,
        message text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX rollout_events_rollout_idx ON rollout_events (rollout_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE rollout_events');
    await q.query('DROP TABLE rollout_members');
    await q.query('DROP TABLE rollouts');
  }
}
