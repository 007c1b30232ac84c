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

  describe('deployment limits', () => {
    it('shows the limit that applies and the live deployments on every read', async () => {
      const limited = new UsersService(fakeDataSource(store) as never, fakeUsersRepository(store) as never, fakeDeploymentsRepository(store) as never, ADMIN_TOKEN, { perUser: 3, total: null });
      const created = await limited.create({ email: 'ada@example.com' });
      expect(created).toMatchObject({ liveDeployments: 0, deploymentLimit: 3, user: { maxDeployments: null } });
      store.deployments.set('d1', { id: 'd1', userId: created.user.id, status: 'ready' } as never);
      store.deployments.set('d2', { id: 'd2', userId: created.user.id, status: 'deleted' } as never);
      expect(await limited.get(created.user.id)).toMatchObject({ liveDeployments: 1, deploymentLimit: 3 });
      expect(await limited.update(created.user.id, { maxDeployments: 7 })).toMatchObject({ liveDeployments: 1, deploymentLimit: 7, user: { maxDeployments: 7 } });
      expect(await limited.update(created.user.id, { maxDeployments: null })).toMatchObject({ deploymentLimit: 3, user: { maxDeployments: null } });
    });

    it('takes a limit at creation, and none means no limit without a default', async () => {
      expect(await sut.create({ email: 'a@example.com', maxDeployments: 2 })).toMatchObject({ deploymentLimit: 2 });
      expect(await sut.create({ email: 'b@example.com' })).toMatchObject({ deploymentLimit: null });
    });

    it.each([-1, 1.5, 2_000_000])('refuses the limit %j', async (maxDeployments) => {
      await expect(sut.create({ email: 'a@example.com', maxDeployments })).rejects.toMatchObject({ code: 'InvalidInput', fields: [{ field: 'maxDeployments' }] });
      const { user } = await sut.create({ email: 'b@example.com' });
      await expect(sut.update(user.id, { maxDeployments })).rejects.toMatchObject({ code: 'InvalidInput' });
    });

    it('404s for an unknown or deleted user', async () => {
      await expect(sut.update('00000000-0000-4000-8000-000000000000', { maxDeployments: 1 })).rejects.toMatchObject({ code: 'NotFound' });
    });
  });

  describe('rotateToken', () => {
    it('issues a new token and revokes the old one at once', async () => {
      const { user, apiToken: old } = await sut.create({ email: 'ada@example.com' });
      const rotated = await sut.rotateToken(user.id);
      expect(rotated.apiToken).toMatch(/^cae_/);
      expect(rotated.apiToken).not.toBe(old);
      expect(await sut.authenticate(old)).toBeNull();
      expect(await sut.authenticate(rotated.apiToken)).toMatchObject({ userId: user.id });
      expect(store.users.get(user.id)!.apiTokenHash).toBe(hashToken(rotated.apiToken));
    });

    it('404s for a deleted user', async () => {
      const { user } = await sut.create({ email: 'ada@example.com' });
      await sut.delete(user.id);
      await expect(sut.rotateToken(user.id)).rejects.toMatchObject({ code: 'NotFound' });
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
