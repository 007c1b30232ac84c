import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API tokens carry 256 bits of randomness, so a plain SHA-256 is a safe at-rest hash. */
export function newApiToken(): string {
  return `cae_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
