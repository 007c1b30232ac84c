import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Marker object that replaces a secret leaf in stored values. */
export const ENCRYPTED_KEY = '$caelusEncrypted';
export const REDACTED = '[redacted]';

/**
 * AES-256-GCM for secret values at rest. The envelope names the key by fingerprint so that
 * a rotation can tell which key sealed which value.
 */
export class SecretBox {
  private readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
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
    if (version !== 'v1' || keyId !== this.keyId) throw new Error('secret was sealed with another key');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const pt = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return JSON.parse(pt.toString('utf8'));
  }

  static isSealed(v: unknown): v is { [ENCRYPTED_KEY]: string } {
    return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[ENCRYPTED_KEY] === 'string';
  }
}
