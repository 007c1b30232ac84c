import { Principal, UsersService } from '../../../../libs/domain/src';

const RESOLVED = Symbol('caelus.principal');

export interface PrincipalRequest {
  headers?: Record<string, unknown>;
  [RESOLVED]?: Promise<BearerResult>;
}

/** What the Authorization header says: no usable bearer token, a token matching nobody, or a principal. */
export type BearerResult = { kind: 'missing' } | { kind: 'invalid' } | { kind: 'principal'; principal: Principal };

/**
 * Resolves the request's bearer token once per request: the rate limiter (which runs first, to
 * key by principal) and the auth guard share the result, so a request costs one token lookup.
 */
export function resolveBearer(req: PrincipalRequest, users: Pick<UsersService, 'authenticate'>): Promise<BearerResult> {
  req[RESOLVED] ??= (async (): Promise<BearerResult> => {
    const header = req.headers?.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return { kind: 'missing' };
    const principal = await users.authenticate(match[1]);
    return principal ? { kind: 'principal', principal } : { kind: 'invalid' };
  })();
  return req[RESOLVED];
}

/**
 * The rate-limit key: the authenticated principal, so users behind one address (a NAT, a proxy)
 * do not throttle each other; the client address only for requests without a valid token.
 * `req.ip` honours X-Forwarded-For only from CAELUS_TRUSTED_PROXIES (Express 'trust proxy').
 */
export async function rateLimitTracker(req: PrincipalRequest & { ip?: string }, users: Pick<UsersService, 'authenticate'>): Promise<string> {
  const bearer = await resolveBearer(req, users);
  if (bearer.kind === 'principal') return bearer.principal.userId ? `user:${bearer.principal.userId}` : 'admin';
  return `ip:${req.ip ?? 'unknown'}`;
}
