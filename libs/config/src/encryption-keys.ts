import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Env, listIn } from './env-readers';

const decodeKey = (raw: string) => (/^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64'));

/** CAELUS_PREVIOUS_ENCRYPTION_KEYS: comma-separated, each like CAELUS_ENCRYPTION_KEY. */
export function readPreviousKeys(env: Env, problems: string[]): Buffer[] {
  const keys = listIn(env, 'CAELUS_PREVIOUS_ENCRYPTION_KEYS').map(decodeKey);
  if (keys.some((k) => k.length !== 32)) problems.push('CAELUS_PREVIOUS_ENCRYPTION_KEYS must list 32-byte keys, as 64 hex characters or base64, separated by commas');
  return keys.filter((k) => k.length === 32);
}

export function readEncryptionKey(env: Env, root: string, problems: string[]): Buffer {
  const raw = env.CAELUS_ENCRYPTION_KEY;
  if (raw) {
    const key = decodeKey(raw);
    if (key.length !== 32) problems.push('CAELUS_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
    return key;
  }
  if (env.NODE_ENV === 'production') {
    problems.push('CAELUS_ENCRYPTION_KEY is required in production');
    return Buffer.alloc(32);
  }
  // A dev run gets a key generated once into .local/, so restarts can still decrypt.
  const file = join(root, '.local', 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(join(root, '.local'), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}
