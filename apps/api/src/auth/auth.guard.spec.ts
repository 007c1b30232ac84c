import { Reflector } from '@nestjs/core';
import { DomainError, Principal } from '../../../../libs/domain/src';
import { Access, ACCESS_KEY } from './auth.decorators';
import { AuthGuard } from './auth.guard';

const ADMIN = 'admin-token';
const ALICE = { userId: '11111111-1111-4111-8111-111111111111', token: 'alice-token' };

describe(AuthGuard.name, () => {
  const users = {
    authenticate: async (token: string): Promise<Principal | null> => {
      if (token === ADMIN) return { userId: null, isAdmin: true, actor: 'admin' };
      if (token === ALICE.token) return { userId: ALICE.userId, isAdmin: false, actor: ALICE.userId };
      return null;
    },
  };

  const run = async (access: Access | undefined, authorization: unknown, params: Record<string, string> = {}) => {
    const reflector = { getAllAndOverride: (key: string) => (key === ACCESS_KEY ? access : undefined) } as unknown as Reflector;
    const sut = new AuthGuard(reflector, users as never);
    const req = { headers: { authorization }, params } as Record<string, unknown>;
    const ctx = { getHandler: () => undefined, getClass: () => undefined, switchToHttp: () => ({ getRequest: () => req }) } as never;
    try {
      return { ok: await sut.canActivate(ctx), principal: req.principal };
    } catch (err) {
      return { code: (err as DomainError).code };
    }
  };

  it('lets anyone reach a public route', async () => {
    expect(await run('public', undefined)).toEqual({ ok: true, principal: undefined });
  });

  it('refuses a route without an access policy, even to the admin', async () => {
    expect(await run(undefined, `Bearer ${ADMIN}`)).toEqual({ code: 'Forbidden' });
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', `Basic ${ADMIN}`, ADMIN, `Bearer ${ADMIN} extra`, ['Bearer', ADMIN]])('401s for the header %j', async (h) => {
    expect(await run('authenticated', h)).toEqual({ code: 'Unauthenticated' });
  });

  it('401s for a token that matches nobody', async () => {
    expect(await run('authenticated', 'Bearer nope')).toEqual({ code: 'Unauthenticated' });
  });

  it('accepts the scheme in any case and attaches the principal', async () => {
    expect(await run('authenticated', `bearer ${ALICE.token}`)).toEqual({ ok: true, principal: expect.objectContaining({ userId: ALICE.userId }) });
  });

  it('keeps admin routes for admins', async () => {
    expect(await run('admin', `Bearer ${ALICE.token}`)).toEqual({ code: 'Forbidden' });
    expect(await run('admin', `Bearer ${ADMIN}`)).toMatchObject({ ok: true });
  });

  it('lets a user reach only their own :userId, and an admin every one', async () => {
    expect(await run('self-or-admin', `Bearer ${ALICE.token}`, { userId: ALICE.userId })).toMatchObject({ ok: true });
    expect(await run('self-or-admin', `Bearer ${ALICE.token}`, { userId: '22222222-2222-4222-8222-222222222222' })).toEqual({ code: 'Forbidden' });
    expect(await run('self-or-admin', `Bearer ${ALICE.token}`, {})).toEqual({ code: 'Forbidden' });
    expect(await run('self-or-admin', `Bearer ${ADMIN}`, { userId: '22222222-2222-4222-8222-222222222222' })).toMatchObject({ ok: true });
  });
});
