import { fakeDataSource, fakeDeploymentsRepository, FakeStore, fakeUsersRepository } from '../../../../test/support/domain-fakes';
import { hashToken } from '../auth/tokens';
import { DomainError } from '../errors';
import { UsersService } from './users.service';

const ADMIN_TOKEN = 'bootstrap-admin-token-0123456789';

describe(UsersService.name, () => {
  let store: FakeStore;
  let sut: UsersService;

  beforeEach(() => {
    store = new FakeStore();
    sut = new UsersService(fakeDataSource(store) as never, fakeUsersRepository(store) as never, fakeDeploymentsRepository(store) as never, ADMIN_TOKEN);
  });

  describe('create', () => {
    it('stores the e-mail lower-cased and only the hash of a fresh token', async () => {
      const { user, apiToken } = await sut.create({ email: '  Ada@Example.COM ' });
      expect(user).toMatchObject({ email: 'ada@example.com', isAdmin: false });
      expect(apiToken).toMatch(/^cae_[\w-]{43}$/);
      expect(store.users.get(user.id)!.apiTokenHash).toBe(hashToken(apiToken));
      expect(JSON.stringify([...store.users.values()])).not.toContain(apiToken);
    });

    it('gives every user a different token', async () => {
      const a = await sut.create({ email: 'a@example.com' });
      const b = await sut.create({ email: 'b@example.com', isAdmin: true });
      expect(a.apiToken).not.toBe(b.apiToken);
      expect(b.user.isAdmin).toBe(true);
    });

    it.each(['ada', 'ada@', '@example.com', 'ada@example', 'a b@example.com', 'ada@exa_mple.com', `${'a'.repeat(65)}@example.com`])('refuses %j', async (email) => {
      await expect(sut.create({ email })).rejects.toMatchObject({ code: 'InvalidInput', fields: [{ field: 'email', message: expect.any(String) }] });
      expect(store.users.size).toBe(0);
    });

    it('turns a taken e-mail (any case) into a Conflict', async () => {
      await sut.create({ email: 'ada@example.com' });
      await expect(sut.create({ email: 'ADA@example.com' })).rejects.toMatchObject({ code: 'Conflict', fields: [{ field: 'email', message: 'is already taken' }] });
    });
  });

  describe('authenticate', () => {
    it('knows the bootstrap admin, which has no user row', async () => {
      expect(await sut.authenticate(ADMIN_TOKEN)).toEqual({ userId: null, isAdmin: true, actor: 'admin' });
    });

    it('resolves a user token through its hash', async () => {
      const { user, apiToken } = await sut.create({ email: 'ada@example.com' });
      expect(await sut.authenticate(apiToken)).toEqual({ userId: user.id, isAdmin: false, actor: user.id });
    });

    it.each(['', 'wrong', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), 'x'.repeat(600)])('refuses %j', async (token) => {
      expect(await sut.authenticate(token)).toBeNull();
    });

    it('refuses the token of a deleted user', async () => {
      const { user, apiToken } = await sut.create({ email: 'ada@example.com' });
      await sut.delete(user.id);
      expect(await sut.authenticate(apiToken)).toBeNull();
    });

    it('has no admin token when none is configured', async () => {
      const noAdmin = new UsersService(fakeDataSource(store) as never, fakeUsersRepository(store) as never, fakeDeploymentsRepository(store) as never, undefined);
      expect(await noAdmin.authenticate(ADMIN_TOKEN)).toBeNull();
    });
  });

  describe('delete', () => {
    it('is soft and idempotent', async () => {
      const { user } = await sut.create({ email: 'ada@example.com' });
      await sut.delete(user.id);
      const deletedAt = store.users.get(user.id)!.deletedAt;
      expect(deletedAt).not.toBeNull();
      await sut.delete(user.id);
      expect(store.users.get(user.id)!.deletedAt).toEqual(deletedAt);
      await expect(sut.get(user.id)).rejects.toMatchObject({ code: 'NotFound' });
      expect((await sut.create({ email: 'ada@example.com' })).user.id).not.toBe(user.id);
    });

    it('is refused while the user still has deployments', async () => {
      const { user } = await sut.create({ email: 'ada@example.com' });
      await fakeDeploymentsRepository(store).insert({ userId: user.id, domainName: 'a.example.com', status: 'ready' });
      await expect(sut.delete(user.id)).rejects.toBeInstanceOf(DomainError);
      await expect(sut.delete(user.id)).rejects.toMatchObject({ code: 'Conflict' });
      expect(store.users.get(user.id)!.deletedAt).toBeNull();
    });
  });
});
