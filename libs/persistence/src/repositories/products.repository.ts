import { DataSource, EntityManager, IsNull } from 'typeorm';
import { ProductEntity } from '../entities';
import { afterCursor, Page, PageRequest, toPage } from '../pagination';

export class ProductsRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(ProductEntity);
  }

  insert(product: Pick<ProductEntity, 'name' | 'description'> & Partial<Pick<ProductEntity, 'allowedDomainSuffixes'>>, m?: EntityManager): Promise<ProductEntity> {
    return this.repo(m).save(this.repo(m).create(product));
  }

  findActiveById(id: string, m?: EntityManager): Promise<ProductEntity | null> {
    return this.repo(m).findOne({ where: { id, deletedAt: IsNull() } });
  }

  /** Includes soft-deleted products: deployments keep pointing at them. */
  findById(id: string, m?: EntityManager): Promise<ProductEntity | null> {
    return this.repo(m).findOne({ where: { id }, withDeleted: true });
  }

  async list(page: PageRequest): Promise<Page<ProductEntity>> {
    const qb = this.repo().createQueryBuilder('p').where('p.deleted_at IS NULL');
    if (page.cursor) qb.andWhere(...afterCursor('products', 'p', page.cursor));
    const rows = await qb
      .orderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit);
  }

  async update(id: string, patch: Partial<Pick<ProductEntity, 'name' | 'description' | 'allowedDomainSuffixes'>>, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, patch);
  }

  async softDelete(id: string, m?: EntityManager): Promise<void> {
    await this.repo(m).softDelete({ id });
  }
}
