import { Principal } from '../../../../libs/domain/src';
import { rateLimitTracker, resolveBearer } from './request-principal';

const ALICE: Principal = { userId: '11111111-1111-4111-8111-111111111111', isAdmin: false, actor: '11111111-1111-4111-8111-111111111111' };

describe(rateLimitTracker.name, () => {
  let lookups: string[];
  const users = {
    authenticate: async (token: string): Promise<Principal | null> => {
      lookups.push(token);
      if (token === 'alice') return ALICE;
      if (token === 'root') return { userId: null, isAdmin: true, actor: 'admin' };
      return null;
    },
  };
  const req = (authorization?: string, ip = '10.0.0.7') => ({ headers: authorization === undefined ? {} : { authorization }, ip });

  beforeEach(() => (lookups = []));

  it('keys an authenticated request by its principal, whatever its address', async () => {
    expect(await rateLimitTracker(req('Bearer alice', '10.0.0.1'), users)).toBe(`user:${ALICE.userId}`);
    expect(await rateLimitTracker(req('Bearer alice', '10.0.0.2'), users)).toBe(`user:${ALICE.userId}`);
    expect(await rateLimitTracker(req('Bearer root'), users)).toBe('admin');
  });

  it('keys requests without a valid token by client address', async () => {
    expect(await rateLimitTracker(req(undefined, '10.0.0.9'), users)).toBe('ip:10.0.0.9');
    expect(await rateLimitTracker(req('Bearer nobody', '10.0.0.9'), users)).toBe('ip:10.0.0.9');
    expect(await rateLimitTracker(req('Basic alice', '10.0.0.9'), users)).toBe('ip:10.0.0.9');
  });

  it('looks the token up once per request, for the limiter and the auth guard together', async () => {
    const r = req('Bearer alice');
    await rateLimitTracker(r, users);
    expect(await resolveBearer(r, users)).toEqual({ kind: 'principal', principal: ALICE });
    expect(lookups).toEqual(['alice']);
  });
});
