import { DataSource, EntityManager } from 'typeorm';
import { DeploymentStatus, HealthSummary, RolloutEntity, RolloutMemberState, RolloutStatus } from '../entities';
import { afterCursor, Page, PageRequest, toPage } from '../pagination';

/** How many members of one wave are in each state. */
export interface WaveCountRow {
  wave: number;
  state: RolloutMemberState;
  count: number;
}

/** A candidate's template, for the domain to decide which versions may upgrade (semver is not SQL's). */
export interface CandidateTemplateRow {
  templateId: string;
  count: number;
}

/** An upgrading member next to its deployment's row: what the health check judges. */
export interface WatchedMemberRow {
  deploymentId: string;
  targetGeneration: number;
  startedAt: Date;
  status: DeploymentStatus;
  generation: number;
  observedGeneration: number;
  desiredTemplateId: string;
  appliedTemplateId: string | null;
  lastError: string | null;
  health: HealthSummary | null;
}

export interface MemberUpdate {
  deploymentId: string;
  state: RolloutMemberState;
  reason?: string | null;
  targetGeneration?: number | null;
}

export interface RolloutEventRow {
  id: string;
  type: string;
  actor: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface NewRolloutEvent {
  rolloutId: string;
  type: string;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

/** Rollouts, their members and their events. The members are rows, so a rollout's size never reaches a workflow's history. */
export class RolloutsRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(RolloutEntity);
  }

  private q(m?: EntityManager) {
    return m ?? this.db.manager;
  }

  /** Fails with a unique violation (rollouts_product_active_uq) when the product has a running or paused rollout. */
  async insert(r: Partial<RolloutEntity>, m?: EntityManager): Promise<RolloutEntity> {
    const res = await this.repo(m).createQueryBuilder().insert().into(RolloutEntity).values(r).returning('id').execute();
    return (await this.findById((res.raw as { id: string }[])[0].id, m))!;
  }

  findById(id: string, m?: EntityManager): Promise<RolloutEntity | null> {
    return this.repo(m).findOne({ where: { id } });
  }

  findByIdForUpdate(id: string, m: EntityManager): Promise<RolloutEntity | null> {
    return m.getRepository(RolloutEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Oldest first, like every other list. */
  async listByProduct(productId: string, page: PageRequest): Promise<Page<RolloutEntity>> {
    const qb = this.repo().createQueryBuilder('r').where('r.product_id = :productId', { productId });
    if (page.cursor) qb.andWhere(...afterCursor('rollouts', 'r', page.cursor));
    const rows = await qb
      .orderBy('r.created_at', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit);
  }

  /** Writes status (and the rest of the patch) only when the rollout is in one of `from`; true when it was written. */
  async transition(
    id: string,
    from: readonly RolloutStatus[],
    patch: { status?: RolloutStatus; reason?: string | null; currentWave?: number; finished?: boolean },
    m?: EntityManager,
  ): Promise<boolean> {
    const res: [unknown[], number] = await this.q(m).query(
      `UPDATE rollouts SET status = COALESCE($3, status), reason = CASE WHEN $4::boolean THEN $5 ELSE reason END,
              current_wave = COALESCE($6, current_wave), finished_at = CASE WHEN $7::boolean THEN now() ELSE finished_at END, updated_at = now()
        WHERE id = $1 AND status = ANY($2::text[])`,
      [id, from, patch.status ?? null, patch.reason !== undefined, patch.reason ?? null, patch.currentWave ?? null, patch.finished ?? false],
    );
    return res[1] > 0;
  }

  /** Live deployments of the product on another template than the target, counted per template. */
  candidateTemplates(productId: string, toTemplateId: string, m?: EntityManager): Promise<CandidateTemplateRow[]> {
    return this.q(m).query(
      `SELECT desired_template_id AS "templateId", count(*)::int AS count FROM deployments
        WHERE product_id = $1 AND desired_template_id <> $2 AND status NOT IN ('deleting', 'deleted') AND deleted_at IS NULL
        GROUP BY desired_template_id`,
      [productId, toTemplateId],
    );
  }

  /**
   * The selection, made once: every live deployment of the product on one of `templateIds`, in
   * creation order, numbered and assigned to the wave whose cumulative end first exceeds its
   * position. Does nothing when the rollout already has members (an activity retried).
   */
  async selectMembers(rolloutId: string, productId: string, templateIds: string[], waveEnds: (total: number) => number[], m: EntityManager): Promise<{ total: number; waveEnds: number[] }> {
    const r = await this.findByIdForUpdate(rolloutId, m);
    if (!r) throw new Error(`rollout ${rolloutId} is missing`);
    if (r.total !== null && r.waveEnds) return { total: r.total, waveEnds: r.waveEnds };
    const [{ count }]: { count: number }[] = await m.query(
      `SELECT count(*)::int AS count FROM deployments
        WHERE product_id = $1 AND desired_template_id = ANY($2::uuid[]) AND status NOT IN ('deleting', 'deleted') AND deleted_at IS NULL`,
      [productId, templateIds],
    );
    const ends = waveEnds(count);
    await m.query(
      `INSERT INTO rollout_members (rollout_id, deployment_id, position, wave)
       SELECT $1, s.id, s.position, (SELECT count(*) FROM unnest($4::int[]) e WHERE e <= s.position)::int
         FROM (SELECT d.id, (row_number() OVER (ORDER BY d.created_at, d.id) - 1)::int AS position FROM deployments d
                WHERE d.product_id = $2 AND d.desired_template_id = ANY($3::uuid[]) AND d.status NOT IN ('deleting', 'deleted') AND d.deleted_at IS NULL) s
        WHERE s.position < $5`,
      [rolloutId, productId, templateIds, ends, count],
    );
    await m.query(`UPDATE rollouts SET total = $2, wave_ends = $3::int[], updated_at = now() WHERE id = $1`, [rolloutId, count, ends]);
    return { total: count, waveEnds: ends };
  }

  async waveCounts(rolloutId: string, m?: EntityManager): Promise<WaveCountRow[]> {
    const rows: WaveCountRow[] = await this.q(m).query(`SELECT wave, state, count(*)::int AS count FROM rollout_members WHERE rollout_id = $1 GROUP BY wave, state ORDER BY wave, state`, [rolloutId]);
    return rows;
  }

  /** The next pending members of a wave, in selection order. */
  async pendingMembers(rolloutId: string, wave: number, limit: number): Promise<string[]> {
    const rows: { deploymentId: string }[] = await this.db.query(
      `SELECT deployment_id AS "deploymentId" FROM rollout_members WHERE rollout_id = $1 AND wave = $2 AND state = 'pending' ORDER BY position LIMIT $3`,
      [rolloutId, wave, limit],
    );
    return rows.map((r) => r.deploymentId);
  }

  /** The upgrading members of a wave with their deployments' rows (deleted rows included). */
  watchedMembers(rolloutId: string, wave: number, limit: number): Promise<WatchedMemberRow[]> {
    return this.db.query(
      `SELECT m.deployment_id AS "deploymentId", m.target_generation AS "targetGeneration", m.started_at AS "startedAt",
              d.status, d.generation, d.observed_generation AS "observedGeneration", d.desired_template_id AS "desiredTemplateId",
              d.applied_template_id AS "appliedTemplateId", d.last_error AS "lastError", d.health
         FROM rollout_members m JOIN deployments d ON d.id = m.deployment_id
        WHERE m.rollout_id = $1 AND m.wave = $2 AND m.state = 'upgrading'
        ORDER BY m.position LIMIT $3`,
      [rolloutId, wave, limit],
    );
  }

  /** Moves a member from `from` to a new state; false when it was not in `from` (already moved by an earlier attempt). */
  async updateMember(rolloutId: string, from: RolloutMemberState, u: MemberUpdate, m?: EntityManager): Promise<boolean> {
    const res: [unknown[], number] = await this.q(m).query(
      `UPDATE rollout_members SET state = $4, reason = $5, target_generation = COALESCE($6, target_generation),
              started_at = CASE WHEN $4 = 'upgrading' THEN now() ELSE started_at END, updated_at = now()
        WHERE rollout_id = $1 AND deployment_id = $2 AND state = $3`,
      [rolloutId, u.deploymentId, from, u.state, u.reason ?? null, u.targetGeneration ?? null],
    );
    return res[1] > 0;
  }

  async appendEvent(e: NewRolloutEvent, m?: EntityManager): Promise<void> {
    await this.q(m).query(`INSERT INTO rollout_events (rollout_id, type, actor, message, data) VALUES ($1, $2, $3, $4, $5)`, [e.rolloutId, e.type, e.actor, e.message, JSON.stringify(e.data ?? {})]);
  }

  /** The newest `limit` events, oldest first. */
  async latestEvents(rolloutId: string, limit: number): Promise<RolloutEventRow[]> {
    const rows: RolloutEventRow[] = await this.db.query(
      `SELECT * FROM (SELECT id::text AS id, type, actor, message, data, created_at AS "createdAt" FROM rollout_events WHERE rollout_id = $1 ORDER BY id DESC LIMIT $2) e ORDER BY e.id::bigint`,
      [rolloutId, limit],
    );
    return rows;
  }
}
