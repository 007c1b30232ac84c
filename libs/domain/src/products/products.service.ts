import { DataSource } from 'typeorm';
import { DeploymentsRepository, Page, PageRequest, ProductEntity, ProductsRepository, uniqueViolation } from '../../../persistence/src';
import { conflict, invalidInput, notFound } from '../errors';
import { isDnsLabel, MAX_PRODUCT_NAME } from '../naming';

export interface ProductInput {
  name?: string;
  description?: string;
}

export class ProductsService {
  constructor(
    private readonly db: DataSource,
    private readonly products: ProductsRepository,
    private readonly deployments: DeploymentsRepository,
  ) {}

  private checkName(name: string): void {
    if (!isDnsLabel(name, MAX_PRODUCT_NAME)) {
      throw invalidInput('name must be a DNS label', [{ field: 'name', message: `must be lower-case letters, digits and "-", 1-${MAX_PRODUCT_NAME} characters, starting and ending with a letter or digit` }]);
    }
  }

  private async guardUnique<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`a product named ${name} already exists`, [{ field: 'name', message: 'is already taken' }]);
      throw err;
    }
  }

  async create(input: Required<Pick<ProductInput, 'name'>> & ProductInput): Promise<ProductEntity> {
    this.checkName(input.name);
    return this.guardUnique(input.name, () => this.products.insert({ name: input.name, description: input.description ?? '' }));
  }

  list(page: PageRequest): Promise<Page<ProductEntity>> {
    return this.products.list(page);
  }

  async get(id: string): Promise<ProductEntity> {
    const p = await this.products.findActiveById(id);
    if (!p) throw notFound('product', id);
    return p;
  }

  /** The name is part of every deployment uid already issued, so renaming keeps those as they are. */
  async update(id: string, input: ProductInput): Promise<ProductEntity> {
    if (input.name !== undefined) this.checkName(input.name);
    await this.get(id);
    await this.guardUnique(input.name ?? '', () => this.products.update(id, input));
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const p = await this.products.findActiveById(id, m);
      if (!p) return;
      if ((await this.deployments.countActiveByProduct(id, m)) > 0) throw conflict('the product still has deployments; delete them first');
      await this.products.softDelete(id, m);
    });
  }
}
