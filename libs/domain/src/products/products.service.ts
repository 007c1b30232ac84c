import { DataSource } from 'typeorm';
import { DeploymentsRepository, Page, PageRequest, ProductEntity, ProductsRepository, uniqueViolation } from '../../../persistence/src';
import { conflict, invalidInput, notFound } from '../errors';
import { isDnsLabel, MAX_PRODUCT_NAME, normalizeDomainSuffix } from '../naming';
import { readPage } from '../pagination';

export interface ProductInput {
  name?: string;
  description?: string;
  /**
   * Domain names of this product's deployments must lie under one of these; it replaces the
   * configured global list. null or empty: the global list applies.
   */
  allowedDomainSuffixes?: string[] | null;
}

export const MAX_DOMAIN_SUFFIXES = 50;

export class ProductsService {
  constructor(
    private readonly db: DataSource,
    private readonly products: ProductsRepository,
    private readonly deployments: DeploymentsRepository,
  ) {}

  private checkName(name: string): void {
    if (!isDnsLabel(name, MAX_PRODUCT_NAME)) {
      throw invalidInput('name must be a DNS label', [
        { field: 'name', message: `must be lower-case letters, digits and "-", 1-${MAX_PRODUCT_NAME} characters, starting and ending with a letter or digit` },
      ]);
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

  /** Normalised (`*.x.com` and `.x.com` become `x.com`), de-duplicated; null for "use the global list". */
  private suffixes(raw: string[] | null | undefined): string[] | null {
    if (!raw || raw.length === 0) return null;
    if (raw.length > MAX_DOMAIN_SUFFIXES) throw invalidInput('allowedDomainSuffixes is too long', [{ field: 'allowedDomainSuffixes', message: `must list at most ${MAX_DOMAIN_SUFFIXES} suffixes` }]);
    const out = raw.map((s, i) => {
      const n = typeof s === 'string' ? normalizeDomainSuffix(s) : null;
      if (!n)
        throw invalidInput('allowedDomainSuffixes holds a name that is not a domain suffix', [{ field: `allowedDomainSuffixes.${i}`, message: 'must be a host name suffix such as apps.example.com' }]);
      return n;
    });
    return [...new Set(out)];
  }

  async create(input: Required<Pick<ProductInput, 'name'>> & ProductInput): Promise<ProductEntity> {
    this.checkName(input.name);
    const allowedDomainSuffixes = this.suffixes(input.allowedDomainSuffixes);
    return this.guardUnique(input.name, () => this.products.insert({ name: input.name, description: input.description ?? '', allowedDomainSuffixes }));
  }

  list(page: PageRequest): Promise<Page<ProductEntity>> {
    return readPage(() => this.products.list(page));
  }

  async get(id: string): Promise<ProductEntity> {
    const p = await this.products.findActiveById(id);
    if (!p) throw notFound('product', id);
    return p;
  }

  /** The name is part of every deployment uid already issued, so renaming keeps those as they are. */
  async update(id: string, input: ProductInput): Promise<ProductEntity> {
    if (input.name !== undefined) this.checkName(input.name);
    const { allowedDomainSuffixes, ...rest } = input;
    const patch = allowedDomainSuffixes === undefined ? rest : { ...rest, allowedDomainSuffixes: this.suffixes(allowedDomainSuffixes) };
    await this.get(id);
    await this.guardUnique(input.name ?? '', () => this.products.update(id, patch));
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
