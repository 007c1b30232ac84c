/**
 * Rate limits keyed by the authenticated principal, by client address only without a valid
 * token; X-Forwarded-For believed only from CAELUS_TRUSTED_PROXIES. The suites' client is the
 * loopback peer, as every user behind one NAT or proxy would be. (@nestjs/throttler counts each
 * route separately, so every check here stays on one route.)
 */
import { bearer } from '../support/api';
import { createUser, E2eSuite, startSuite, TestUser } from '../support/e2e';

const LIMIT = 4;

describe('rate limits (e2e)', () => {
  const suites: E2eSuite[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startSuite({ CAELUS_RATE_LIMIT: String(LIMIT), CAELUS_RATE_LIMIT_TTL: '300', ...env });
    suites.push(s);
    return s;
  };

  afterAll(async () => {
    for (const s of suites.reverse()) await s.close();
  });

  describe('with no trusted proxy', () => {
    let suite: E2eSuite;
    let alice: TestUser;
    let bob: TestUser;

    beforeAll(async () => {
      suite = await start({ CAELUS_TRUSTED_PROXIES: '10.20.30.40' });
      alice = await createUser(suite.api, 'alice');
      bob = await createUser(suite.api, 'bob');
    });

    it('gives two users behind one address a budget each: one running out does not throttle the other', async () => {
      const get = (u: TestUser) => suite.api.http.get(`/users/${u.id}`).set(bearer(u.token));
      for (let i = 0; i < LIMIT; i++) await get(alice).expect(200);
      const throttled = await get(alice);
      expect(throttled.status).toBe(429);
      expect(throttled.body.message).toBe('too many requests; slow down');
      for (let i = 0; i < LIMIT; i++) await get(bob).expect(200);
      await get(bob).expect(429);
      // The admin, and anonymous callers, have budgets of their own too.
      await suite.api.http.get('/users').set(bearer(suite.api.adminToken)).expect(200);
      await suite.api.http.get('/health/live').expect(200);
    });

    it('keys callers without a valid token by the peer address, ignoring a spoofed X-Forwarded-For', async () => {
      const codes: number[] = [];
      for (let i = 0; i < LIMIT + 2; i++) {
        const res = await suite.api.http.get('/health/live').set('X-Forwarded-For', `203.0.113.${i + 1}`);
        codes.push(res.status);
      }
      // /health/live answered once in the previous test: the same loopback budget.
      expect(codes.filter((c) => c === 200)).toHaveLength(LIMIT - 1);
      expect(codes.slice(LIMIT - 1).every((c) => c === 429)).toBe(true);
      // A wrong token counts against the address, not a principal of its own.
      await suite.api.http.get('/health/live').set(bearer('cae_not-a-token')).set('X-Forwarded-For', '198.51.100.7').expect(429);
    });
  });

  describe('behind a trusted proxy', () => {
    it('believes X-Forwarded-For from a trusted peer: each forwarded client has its own budget', async () => {
      const suite = await start({ CAELUS_TRUSTED_PROXIES: 'loopback' });
      const from = (ip: string) => suite.api.http.get('/health/live').set('X-Forwarded-For', ip);
      for (let i = 0; i < LIMIT; i++) await from('203.0.113.10').expect(200);
      await from('203.0.113.10').expect(429);
      await from('203.0.113.11').expect(200);
    });
  });
});
