import { fakeDataSource, fakeDeploymentsRepository, fakeProductsRepository, FakeStore } from '../../../../test/support/domain-fakes';
import { ProductsService } from './products.service';

describe(ProductsService.name, () => {
  let store: FakeStore;
  let sut: ProductsService;

  beforeEach(() => {
    store = new FakeStore();
    sut = new ProductsService(fakeDataSource(store) as never, fakeProductsRepository(store) as never, fakeDeploymentsRepository(store) as never);
  });

  it('creates a product with a DNS-label name', async () => {
    expect(await sut.create({ name: 'nextcloud', description: 'files' })).toMatchObject({ name: 'nextcloud', description: 'files' });
    expect((await sut.create({ name: 'a' })).description).toBe('');
  });

  it.each(['Nextcloud', 'next cloud', '-x', 'x-', 'x_y', 'x.y', '', 'x'.repeat(41)])('refuses the name %j', async (name) => {
    await expect(sut.create({ name })).rejects.toMatchObject({ code: 'InvalidInput', fields: [{ field: 'name', message: expect.any(String) }] });
    expect(store.products.size).toBe(0);
  });

  it('turns a taken name into a Conflict, on create and on rename', async () => {
    await sut.create({ name: 'taken' });
    const other = await sut.create({ name: 'other' });
    await expect(sut.create({ name: 'taken' })).rejects.toMatchObject({ code: 'Conflict', fields: [{ field: 'name', message: 'is already taken' }] });
    await expect(sut.update(other.id, { name: 'taken' })).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('updates name and description, checking the name', async () => {
    const p = await sut.create({ name: 'old' });
    expect(await sut.update(p.id, { name: 'new', description: 'd' })).toMatchObject({ id: p.id, name: 'new', description: 'd' });
    await expect(sut.update(p.id, { name: 'Bad Name' })).rejects.toMatchObject({ code: 'InvalidInput' });
    await expect(sut.update('00000000-0000-4000-8000-000000000000', { description: 'x' })).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('deletes softly and idempotently, freeing the name', async () => {
    const p = await sut.create({ name: 'gone' });
    await sut.delete(p.id);
    await sut.delete(p.id);
    await expect(sut.get(p.id)).rejects.toMatchObject({ code: 'NotFound' });
    expect((await sut.create({ name: 'gone' })).id).not.toBe(p.id);
  });

  it('refuses to delete a product that still has deployments', async () => {
    const p = await sut.create({ name: 'busy' });
    await fakeDeploymentsRepository(store).insert({ productId: p.id, domainName: 'a.example.com', status: 'ready' });
    await expect(sut.delete(p.id)).rejects.toMatchObject({ code: 'Conflict' });
    expect(store.products.get(p.id)!.deletedAt).toBeNull();
  });

  describe('allowed domain suffixes', () => {
    it('stores them normalised and de-duplicated; null or empty means the global list', async () => {
      const p = await sut.create({ name: 'shop', allowedDomainSuffixes: ['*.Shop.Example.com', '.shop.example.com', 'apps.example.org'] });
      expect(p.allowedDomainSuffixes).toEqual(['shop.example.com', 'apps.example.org']);
      expect((await sut.update(p.id, { allowedDomainSuffixes: [] })).allowedDomainSuffixes).toBeNull();
      expect((await sut.update(p.id, { allowedDomainSuffixes: ['x.example.com'] })).allowedDomainSuffixes).toEqual(['x.example.com']);
      expect((await sut.update(p.id, { description: 'kept' })).allowedDomainSuffixes).toEqual(['x.example.com']);
      expect((await sut.update(p.id, { allowedDomainSuffixes: null })).allowedDomainSuffixes).toBeNull();
    });

    it.each(['', 'exa mple.com', '-bad.example.com', 'a/b', '*.*.example.com'])('refuses the suffix %j, naming its index', async (bad) => {
      await expect(sut.create({ name: 'shop', allowedDomainSuffixes: ['ok.example.com', bad] })).rejects.toMatchObject({ code: 'InvalidInput', fields: [{ field: 'allowedDomainSuffixes.1' }] });
    });
  });
});
