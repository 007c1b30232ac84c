import { DataSource, EntityManager, IsNull } from 'typeorm';
import { TemplateVersionEntity } from '../entities';
import { afterCursor, Page, PageRequest, toPage } from '../pagination';

export class TemplatesRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(TemplateVersionEntity);
  }

  /** An INSERT, not save(): save() drops JSON keys such as `valueOf` from jsonb columns (see DeploymentsRepository.insert). */
  async insert(t: Omit<TemplateVersionEntity, 'id' | 'createdAt' | 'deletedAt'> & { id?: string }, m?: EntityManager): Promise<TemplateVersionEntity> {
    const res = await this.repo(m)
      .createQueryBuilder()
      .insert()
      .into(TemplateVersionEntity)
      .values(t as never)
      .returning('id')
      .execute();
    return this.repo(m).findOneOrFail({ where: { id: (res.raw as { id: string }[])[0].id }, withDeleted: true });
  }

  findActiveById(id: string, m?: EntityManager): Promise<TemplateVersionEntity | null> {
    return this.repo(m).findOne({ where: { id, deletedAt: IsNull() } });
  }

  /** Includes soft-deleted templates: a running deployment may still be on one. */
  findById(id: string, m?: EntityManager): Promise<TemplateVersionEntity | null> {
    return this.repo(m).findOne({ where: { id }, withDeleted: true });
  }

  async listByProduct(productId: string, page: PageRequest): Promise<Page<TemplateVersionEntity>> {
    const qb = this.repo().createQueryBuilder('t').where('t.deleted_at IS NULL').andWhere('t.product_id = :productId', { productId });
    if (page.cursor) qb.andWhere(...afterCursor('template_versions', 't', page.cursor));
    const rows = await qb
      .orderBy('t.created_at', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit);
  }

  async countActiveByProduct(productId: string, m?: EntityManager): Promise<number> {
    return this.repo(m).count({ where: { productId, deletedAt: IsNull() } });
  }

  /** Ids in order, deleted templates included (their defaults may hold sealed values): for key rotation. */
  async idsAfter(afterId: string | undefined, limit: number): Promise<string[]> {
    const qb = this.repo().createQueryBuilder('t').withDeleted().select('t.id', 'id');
    if (afterId) qb.where('t.id > :afterId', { afterId });
    const rows: { id: string }[] = await qb.orderBy('t.id', 'ASC').limit(limit).getRawMany();
    return rows.map((r) => r.id);
  }

  findByIdForUpdate(id: string, m: EntityManager): Promise<TemplateVersionEntity | null> {
    return m.getRepository(TemplateVersionEntity).findOne({ where: { id }, withDeleted: true, lock: { mode: 'pessimistic_write' } });
  }

  /** Templates are immutable through the API; only a re-seal of their sealed defaults writes them. */
  async updateDefaultValues(id: string, defaultValues: Record<string, unknown>, m: EntityManager): Promise<void> {
    await m.getRepository(TemplateVersionEntity).update({ id }, { defaultValues: defaultValues as never });
  }

  async softDelete(id: string, m?: EntityManager): Promise<void> {
    await this.repo(m).softDelete({ id });
  }
}
