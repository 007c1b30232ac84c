import { DataSource, EntityManager, Repository } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

type DeploymentPatch = Parameters<Repository<DeploymentEntity>['update']>[1];
import { DeploymentEntity, DeploymentStatus, DriftSummary, HealthSummary } from '../entities';
import { afterCursor, Page, PageRequest, toPage } from '../pagination';
import { AllDeploymentsFilter, DeploymentCounts, LISTED_COLUMNS, ListedDeployment, listedFromRow, ListedRow, whereAllDeployments } from './all-deployments.query';

/** Advisory lock key of the global deployment limit (any constant bigint; "caelus-q" in ASCII). */
const GLOBAL_QUOTA_LOCK = '7161116398997155185';
/** First key of the per-user limit's two-key advisory locks (any constant int4; "cq" in ASCII). */
const USER_QUOTA_LOCK_CLASS = 25457;

/** The part of a node-postgres client the advisory lock uses. */
interface PgSession {
  query(sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface DeploymentListFilter {
  userId?: string;
  status?: DeploymentStatus;
}

/** What the workflow observed, written back only if the desired state has not moved on. */
export interface ObservedState {
  status?: DeploymentStatus;
  lastError?: string | null;
  appliedTemplateId?: string | null;
  observedGeneration?: number;
  lastReconcileAt?: Date;
  lastDriftCheckAt?: Date;
  driftSummary?: DriftSummary | null;
  health?: HealthSummary | null;
}

/** The columns a workflow step needs, with the product's name: one indexed read, no values. */
export interface DesiredRow {
  id: string;
  userId: string;
  productId: string;
  productName: string;
  deploymentUid: string;
  desiredTemplateId: string;
  appliedTemplateId: string | null;
  generation: number;
  observedGeneration: number;
  status: DeploymentStatus;
  suspendedAt: Date | null;
  /** When the last drift check was recorded (null before the first). */
  lastDriftCheckAt?: Date | null;
}

export class DeploymentsRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(DeploymentEntity);
  }

  /**
   * An INSERT, not save(): save() merges the entity through TypeORM's deep merge, which skips a
   * values key whose name an empty object inherits (`valueOf`, `hasOwnProperty`…) when its value
   * is an object, so such keys were silently dropped from user values.
   */
  async insert(d: Partial<DeploymentEntity>, m?: EntityManager): Promise<DeploymentEntity> {
    const res = await this.repo(m)
      .createQueryBuilder()
      .insert()
      .into(DeploymentEntity)
      .values(d as never)
      .returning('id')
      .execute();
    return (await this.findById((res.raw as { id: string }[])[0].id, m))!;
  }

  findById(id: string, m?: EntityManager): Promise<DeploymentEntity | null> {
    return this.repo(m).findOne({ where: { id }, withDeleted: true });
  }

  /**
   * What the workflow reads on every step and drift tick, in one query: not the user's values
   * (sealed, possibly large), and the product's name joined in. Deleted rows included, like findById.
   */
  async findDesired(id: string): Promise<DesiredRow | null> {
    const rows: DesiredRow[] = await this.db.query(
      `SELECT d.id, d.user_id AS "userId", d.product_id AS "productId", p.name AS "productName",
              d.deployment_uid AS "deploymentUid", d.desired_template_id AS "desiredTemplateId",
              d.applied_template_id AS "appliedTemplateId", d.generation, d.observed_generation AS "observedGeneration", d.status,
              d.suspended_at AS "suspendedAt", d.last_drift_check_at AS "lastDriftCheckAt"
         FROM deployments d JOIN products p ON p.id = d.product_id
        WHERE d.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * The drift check's write-back, guarded like writeObserved: only at `generation`, never on a row being deleted.
   * An observation, not a change: `updated_at` stays (it says when the desired state or the status last changed).
   */
  async writeDriftCheck(id: string, generation: number, checkedAt: Date, summary: DriftSummary): Promise<boolean> {
    const res: [unknown[], number] = await this.db.query(
      `UPDATE deployments SET last_drift_check_at = $3, drift_summary = $4
        WHERE id = $1 AND generation = $2 AND status NOT IN ('deleting', 'deleted')`,
      [id, generation, checkedAt, JSON.stringify(summary)],
    );
    return res[1] > 0;
  }

  /** A health assessment's write-back, guarded like writeDriftCheck (and like it, leaving `updated_at`). */
  async writeHealth(id: string, generation: number, health: HealthSummary): Promise<boolean> {
    const res: [unknown[], number] = await this.db.query(
      `UPDATE deployments SET health = $3
        WHERE id = $1 AND generation = $2 AND status NOT IN ('deleting', 'deleted')`,
      [id, generation, JSON.stringify(health)],
    );
    return res[1] > 0;
  }

  findByUid(deploymentUid: string, m?: EntityManager): Promise<DeploymentEntity | null> {
    return this.repo(m).findOne({ where: { deploymentUid }, withDeleted: true });
  }

  /** Row lock for the rest of the transaction: concurrent writers to one deployment queue up here. */
  findByIdForUpdate(id: string, m: EntityManager): Promise<DeploymentEntity | null> {
    return m.getRepository(DeploymentEntity).findOne({ where: { id }, withDeleted: true, lock: { mode: 'pessimistic_write' } });
  }

  async list(filter: DeploymentListFilter, page: PageRequest): Promise<Page<DeploymentEntity>> {
    const qb = this.repo().createQueryBuilder('d').withDeleted();
    if (filter.userId) qb.andWhere('d.user_id = :userId', { userId: filter.userId });
    if (filter.status) qb.andWhere('d.status = :status', { status: filter.status });
    else qb.andWhere(`d.status <> 'deleted'`);
    if (page.cursor) qb.andWhere(...afterCursor('deployments', 'd', page.cursor));
    const rows = await qb
      .orderBy('d.created_at', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit);
  }

  async update(id: string, patch: Partial<DeploymentEntity>, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, patch as DeploymentPatch);
  }

  /** The teardown is done: the row stays (with its history), its observed generation catches up with the desired one. */
  async markDeleted(id: string, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, { status: 'deleted', observedGeneration: () => 'generation' });
  }

  /**
   * Writes an observation guarded by generation: it lands only while `generation` is still the
   * desired generation, so a slow, older reconcile never overwrites the result of a newer one.
   * Once deletion has started only the deletion's own observations (status `deleting`) land: a
   * reconcile that read the row after the delete committed carries the delete's generation, and
   * its "ready" would otherwise turn the deployment back from `deleting`, so it is never deleted.
   */
  async writeObserved(id: string, generation: number, observed: ObservedState, m?: EntityManager): Promise<boolean> {
    const res = await this.repo(m)
      .createQueryBuilder()
      .update(DeploymentEntity)
      .set(observed)
      .where('id = :id AND generation = :generation', { id, generation })
      .andWhere(observed.status === 'deleting' ? `status <> 'deleted'` : `status NOT IN ('deleting', 'deleted')`)
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Ids of every deployment row (deleted ones too), in id order after `afterId`: for batch jobs. */
  async idsAfter(afterId: string | undefined, limit: number): Promise<string[]> {
    const qb = this.repo().createQueryBuilder('d').withDeleted().select('d.id', 'id');
    if (afterId) qb.where('d.id > :afterId', { afterId });
    const rows: { id: string }[] = await qb.orderBy('d.id', 'ASC').limit(limit).getRawMany();
    return rows.map((r) => r.id);
  }

  /** Of these deployment uids, those of deployments not deleted: the cluster watcher signals only its own installation's. */
  async liveUids(uids: readonly string[]): Promise<string[]> {
    if (uids.length === 0) return [];
    const rows: { uid: string }[] = await this.repo()
      .createQueryBuilder('d')
      .withDeleted()
      .select('d.deployment_uid', 'uid')
      .where('d.deployment_uid IN (:...uids)', { uids })
      .andWhere(`d.status <> 'deleted'`)
      .getRawMany();
    return rows.map((r) => r.uid);
  }

  /** Deployments that are not deleted, counted by status (statuses without any are absent). */
  async countByStatus(): Promise<Partial<Record<DeploymentStatus, number>>> {
    const rows: { status: DeploymentStatus; count: string }[] = await this.repo()
      .createQueryBuilder('d')
      .withDeleted()
      .select('d.status', 'status')
      .addSelect('count(*)', 'count')
      .where(`d.status <> 'deleted'`)
      .groupBy('d.status')
      .getRawMany();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
  }

  async countActiveByUser(userId: string, m?: EntityManager): Promise<number> {
    return this.repo(m).createQueryBuilder('d').withDeleted().where('d.user_id = :userId', { userId }).andWhere(`d.status <> 'deleted'`).getCount();
  }

  /** Live (not deleted) deployments of each of the given users; users without any are absent. */
  async countActiveByUsers(userIds: readonly string[], m?: EntityManager): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    const rows: { userId: string; count: string }[] = await this.repo(m)
      .createQueryBuilder('d')
      .withDeleted()
      .select('d.user_id', 'userId')
      .addSelect('count(*)', 'count')
      .where('d.user_id IN (:...userIds)', { userIds })
      .andWhere(`d.status <> 'deleted'`)
      .groupBy('d.user_id')
      .getRawMany();
    return new Map(rows.map((r) => [r.userId, Number(r.count)]));
  }

  /**
   * Serialises deployment creations across the whole platform until the transaction ends, so the
   * global limit is checked and the insert made with no other creation in between.
   */
  async lockGlobalQuota(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [GLOBAL_QUOTA_LOCK]);
  }

  /**
   * Serialises one user's deployment creations until the transaction ends, when a limit applies to
   * that user: the count and the insert see no other creation of theirs in between. (Users hash to
   * the two-key advisory space, apart from the global lock's; a collision only queues two users together.)
   */
  async lockUserQuota(userId: string, m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [USER_QUOTA_LOCK_CLASS, userId]);
  }

  /** Live (not deleted) deployments of every user. */
  async countActive(m?: EntityManager): Promise<number> {
    return this.repo(m).createQueryBuilder('d').withDeleted().where(`d.status <> 'deleted'`).getCount();
  }

  async countActiveByProduct(productId: string, m?: EntityManager): Promise<number> {
    return this.repo(m).createQueryBuilder('d').withDeleted().where('d.product_id = :productId', { productId }).andWhere(`d.status <> 'deleted'`).getCount();
  }

  /**
   * For the supervisor: deployments whose request has waited longer than `olderThanSeconds` with
   * nothing written since (Postgres' clock): a committed generation the workflow has not acted on
   * (neither applied nor recorded as failed: an API commit always leaves a status other than
   * `error`), or a deletion not finished. Their signal may have been lost. A suspended
   * deployment's new generation waits on purpose (its deletion does not).
   */
  async listStuck(olderThanSeconds: number): Promise<Pick<DeploymentEntity, 'id' | 'deploymentUid' | 'userId' | 'status' | 'generation'>[]> {
    return this.db.query(
      `SELECT id, deployment_uid AS "deploymentUid", user_id AS "userId", status, generation
         FROM deployments
        WHERE (status = 'deleting' OR (generation > observed_generation AND status NOT IN ('error', 'deleted') AND suspended_at IS NULL))
          AND updated_at < now() - make_interval(secs => $1)
        ORDER BY updated_at ASC`,
      [olderThanSeconds],
    );
  }

  /**
   * Runs fn only if no other session holds the advisory lock `key` (so several workers never run
   * the same job at once), on a dedicated connection that holds it until fn is done. Resolves
   * `{ locked: false }` without running fn when another session has it.
   */
  async withAdvisoryLock<T>(key: bigint, fn: () => Promise<T>): Promise<{ locked: true; result: T } | { locked: false }> {
    // A pool client of its own: the lock belongs to the session, which must outlive fn's queries.
    const [client, release] = (await (this.db.driver as PostgresDriver).obtainMasterConnection()) as [PgSession, (err?: Error) => void];
    let locked: boolean;
    try {
      const res = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key.toString()]);
      locked = res.rows[0]?.locked === true;
    } catch (err) {
      release(err as Error);
      throw err;
    }
    if (!locked) {
      release();
      return { locked: false };
    }
    try {
      return { locked: true, result: await fn() };
    } finally {
      // A session that could not unlock is closed, not pooled: closing it frees the lock.
      const failed = await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]).then(
        () => undefined,
        (err: Error) => err,
      );
      release(failed);
    }
  }

  /** For the supervisor: every deployment whose workflow must be running. */
  async listUnfinished(): Promise<Pick<DeploymentEntity, 'id' | 'deploymentUid' | 'userId' | 'status' | 'generation'>[]> {
    return this.repo()
      .createQueryBuilder('d')
      .withDeleted()
      .select(['d.id', 'd.deploymentUid', 'd.userId', 'd.status', 'd.generation'])
      .where(`d.status <> 'deleted'`)
      .orderBy('d.created_at', 'ASC')
      .getMany();
  }

  /**
   * Every user's deployments, for the admin list: filtered like `list` and also by product and
   * desired template, in the same (created_at, id) order, each with the names a listing shows
   * (owner, product, template versions). One query of plain rows: a page of 1,000 is mapped
   * without TypeORM's entity hydration, and Postgres writes the timestamps as ISO text (see
   * LISTED_COLUMNS), which took about half of the page's time in the API before.
   */
  async listAll(filter: AllDeploymentsFilter, page: PageRequest): Promise<Page<ListedDeployment>> {
    const qb = this.db
      .createQueryBuilder()
      .from(DeploymentEntity, 'd')
      // Deployments being deleted have deleted_at set and are still listed.
      .withDeleted()
      .leftJoin('users', 'u', 'u.id = d.user_id')
      .leftJoin('products', 'p', 'p.id = d.product_id')
      .leftJoin('template_versions', 'td', 'td.id = d.desired_template_id')
      .leftJoin('template_versions', 'ta', 'ta.id = d.applied_template_id');
    for (const [i, [expr, alias]] of LISTED_COLUMNS.entries()) {
      if (i === 0) qb.select(expr, alias);
      else qb.addSelect(expr, alias);
    }
    whereAllDeployments(qb, filter);
    if (page.cursor) qb.andWhere(...afterCursor('deployments', 'd', page.cursor));
    const rows = await qb
      .orderBy('d.created_at', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .limit(page.limit + 1)
      .getRawMany<ListedRow>();
    const listed = rows.map(listedFromRow);
    return {
      items: listed.slice(0, page.limit),
      nextCursor: toPage(
        listed.map((l) => l.deployment),
        page.limit,
      ).nextCursor,
    };
  }

  /**
   * The deployments `listAll` would list across all its pages, counted per status, per product
   * and per desired template version: one scan (GROUPING SETS), the sets told apart by GROUPING().
   */
  async countAll(filter: AllDeploymentsFilter): Promise<DeploymentCounts> {
    const qb = this.db
      .createQueryBuilder()
      .from(DeploymentEntity, 'd')
      // Deployments being deleted have deleted_at set and are still listed.
      .withDeleted()
      .leftJoin('products', 'p', 'p.id = d.product_id')
      .leftJoin('template_versions', 't', 't.id = d.desired_template_id')
      .select('GROUPING(d.status, d.product_id, d.desired_template_id)', 'set')
      .addSelect('d.status', 'status')
      .addSelect('d.product_id', 'productId')
      .addSelect('p.name', 'productName')
      .addSelect('d.desired_template_id', 'templateId')
      .addSelect('t.version', 'version')
      .addSelect('count(*)', 'count')
      .groupBy('GROUPING SETS ((), (d.status), (d.product_id, p.name), (d.product_id, p.name, d.desired_template_id, t.version))');
    const rows: { set: number; status: DeploymentStatus; productId: string; productName: string | null; templateId: string; version: string | null; count: string }[] = await whereAllDeployments(
      qb,
      filter,
    ).getRawMany();
    // GROUPING() sets a bit per argument left out of the set: status 4, product 2, template 1 (7: the total).
    const counts: DeploymentCounts = { total: 0, byStatus: [], byProduct: [], byTemplate: [] };
    for (const r of rows) {
      const count = Number(r.count);
      if (Number(r.set) === 7) counts.total = count;
      else if (Number(r.set) === 3) counts.byStatus.push({ status: r.status, count });
      else if (Number(r.set) === 5) counts.byProduct.push({ productId: r.productId, productName: r.productName, count });
      else if (Number(r.set) === 4) counts.byTemplate.push({ templateId: r.templateId, productId: r.productId, productName: r.productName, version: r.version, count });
    }
    const most = (a: { count: number }, b: { count: number }) => b.count - a.count;
    counts.byStatus.sort((a, b) => most(a, b) || a.status.localeCompare(b.status));
    counts.byProduct.sort((a, b) => most(a, b) || a.productId.localeCompare(b.productId));
    counts.byTemplate.sort((a, b) => most(a, b) || a.templateId.localeCompare(b.templateId));
    return counts;
  }
}
