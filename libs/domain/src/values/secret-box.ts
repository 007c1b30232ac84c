import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Marker object that replaces a secret leaf in stored values. */
export const ENCRYPTED_KEY = '$caelusEncrypted';
export const REDACTED = '[redacted]';

export type SealedValue = { [ENCRYPTED_KEY]: string };

/**
 * Where a sealed value belongs: the row that owns it (a deployment's values, or a template's
 * default values) and its JSON pointer inside that document. It is the GCM additional data of
 * the envelope, so an envelope copied to another row or field does not open.
 */
export interface SecretBinding {
  owner: 'deployment' | 'template';
  id: string;
  /** JSON pointer (RFC 6901) of the sealed leaf inside the owner's document, e.g. "/smtp/password". */
  path: string;
}

/** Why an envelope did not open; never carries the value. */
export type SecretOpenFailure = 'unknown-key' | 'wrong-binding' | 'unbound' | 'malformed';

export class SecretOpenError extends Error {
  constructor(
    readonly reason: SecretOpenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SecretOpenError';
  }
}

/** v1: no additional data (before envelopes were bound). v2: bound to owner and path. */
const BOUND = 'v2';
const UNBOUND = 'v1';

const fingerprint = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);
const additionalData = (b: SecretBinding) => Buffer.from(JSON.stringify(['caelus-secret', BOUND, b.owner, b.id, b.path]), 'utf8');

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

  /** True when the value was sealed with another key than the current one, or before envelopes were bound. */
  needsReseal(sealed: SealedValue): boolean {
    const [version, keyId] = sealed[ENCRYPTED_KEY].split('.');
    return version !== BOUND || keyId !== this.keyId;
  }

  seal(value: unknown, binding: SecretBinding): SealedValue {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(additionalData(binding));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return { [ENCRYPTED_KEY]: [BOUND, this.keyId, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.') };
  }

  /** A v1 envelope, bound to nothing: only for the migration's down(), which restores the old form. */
  sealUnbound(value: unknown): SealedValue {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { [ENCRYPTED_KEY]: [UNBOUND, this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.') };
  }

  /**
   * Opens an envelope sealed for `binding`. A v1 envelope (sealed before binding existed) opens
   * only with `allowUnbound`, which the re-seal paths (the migration, the rotation script) pass.
   */
  open(sealed: SealedValue, binding: SecretBinding, options: { allowUnbound?: boolean } = {}): unknown {
    const parts = sealed[ENCRYPTED_KEY].split('.');
    const [version, keyId, iv, tag, ct] = parts;
    if (parts.length !== 5 || (version !== BOUND && version !== UNBOUND)) throw new SecretOpenError('malformed', 'secret envelope is malformed');
    if (version === UNBOUND && !options.allowUnbound) {
      throw new SecretOpenError('unbound', 'secret was sealed before envelopes were bound to their owner; re-seal it with scripts/rotate-encryption-key.ts');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SecretOpenError('unknown-key', 'secret was sealed with another key');
    let pt: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      if (version === BOUND) decipher.setAAD(additionalData(binding));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      pt = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    } catch {
      throw new SecretOpenError('wrong-binding', 'secret does not open here: it was sealed for another deployment, template or field, or it was altered');
    }
    return JSON.parse(pt.toString('utf8'));
  }

  static isSealed(v: unknown): v is SealedValue {
    return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>)[ENCRYPTED_KEY] === 'string';
  }
}
