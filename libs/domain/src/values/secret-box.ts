import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Marker object that replaces a secret leaf in stored values. */
export const ENCRYPTED_KEY = '$caelusEncrypted';
export const REDACTED = '[redacted]';

const fingerprint = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * AES-256-GCM for secret values at rest. The envelope names the key by fingerprint so that
 * a rotation can tell which key sealed which value: values are sealed with the current key and
 * opened with whichever key sealed them, the current one or a previous one still configured.
 */
export class SecretBox {
  private readonly keyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    private readonly key: Buffer,
    previousKeys: readonly Buffer[] = [],
  ) {
    for (const k of [key, ...previousKeys]) if (k.length !== 32) throw new Error('SecretBox needs 32-byte keys');
    this.keyId = fingerprint(key);
    this.keys = new Map([...previousKeys.map((k) => [fingerprint(k), k] as const), [this.keyId, key]]);
  }

  /** Fingerprint of the key new values are sealed with (the second field of the envelope). */
  get currentKeyId(): string {
    return this.keyId;
  }

  /** True when the value was sealed with another key than the current one. */
  needsReseal(sealed: { [ENCRYPTED_KEY]: string }): boolean {
    return sealed[ENCRYPTED_KEY].split('.')[1] !== this.keyId;
  }

  seal(value: unknown): { [ENCRYPTED_KEY]: string } {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return { [ENCRYPTED_KEY]: ['v1', this.keyId, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.') };
  }

  open(sealed: { [ENCRYPTED_KEY]: string }): unknown {
    const [version, keyId, iv, tag, ct] = sealed[ENCRYPTED_KEY].split('.');
    const key = version === 'v1' ? this.keys.get(keyId) : undefined;
    if (!key) throw new Error('secret was sealed with another key');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const pt = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return JSON.parse(pt.toString('utf8'));
  }

  static isSealed(v: unknown): v is { [ENCRYPTED_KEY]: string } {
    return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[ENCRYPTED_KEY] === 'string';
  }
}
