import { DataSource, EntityManager, IsNull } from 'typeorm';
import { UserEntity } from '../entities';
import { afterCursor, Page, PageRequest, toPage } from '../pagination';

export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(UserEntity);
  }

  insert(user: Pick<UserEntity, 'email' | 'isAdmin' | 'apiTokenHash'> & Partial<Pick<UserEntity, 'maxDeployments'>>, m?: EntityManager): Promise<UserEntity> {
    return this.repo(m).save(this.repo(m).create(user));
  }

  findActiveById(id: string, m?: EntityManager): Promise<UserEntity | null> {
    return this.repo(m).findOne({ where: { id, deletedAt: IsNull() } });
  }

  /**
   * Shared row lock for the rest of the transaction: the user cannot be removed, deactivated or
   * given another limit until it ends, while other creations for the same user go on in parallel.
   */
  findActiveByIdForShare(id: string, m: EntityManager): Promise<UserEntity | null> {
    return m.getRepository(UserEntity).findOne({ where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_read' } });
  }

  /** Row lock for the rest of the transaction: changes to the user (its limit, its removal) queue up here. */
  findActiveByIdForUpdate(id: string, m: EntityManager): Promise<UserEntity | null> {
    return m.getRepository(UserEntity).findOne({ where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }

  async update(id: string, patch: Partial<Pick<UserEntity, 'maxDeployments' | 'apiTokenHash'>>, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, patch);
  }

  findActiveByTokenHash(apiTokenHash: string): Promise<UserEntity | null> {
    return this.repo().findOne({ where: { apiTokenHash, deletedAt: IsNull() } });
  }

  async list(page: PageRequest): Promise<Page<UserEntity>> {
    const qb = this.repo().createQueryBuilder('u').where('u.deleted_at IS NULL');
    if (page.cursor) qb.andWhere(...afterCursor('users', 'u', page.cursor));
    const rows = await qb
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit);
  }

  async softDelete(id: string, m?: EntityManager): Promise<void> {
    await this.repo(m).softDelete({ id });
  }
}
