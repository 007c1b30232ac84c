import { ENCRYPTED_KEY, SecretBinding, SecretBox, SecretOpenError } from './secret-box';

const here: SecretBinding = { owner: 'deployment', id: '6f1c2a9e-0000-4000-8000-000000000001', path: '/adminPassword' };

describe(SecretBox.name, () => {
  const sut = new SecretBox(Buffer.alloc(32, 3));

  it('round-trips JSON values of any type', () => {
    for (const v of ['s3cret', '', 42, true, null, { nested: ['a', 1] }, 'ünïcødé ✓']) expect(sut.open(sut.seal(v, here), here)).toEqual(v);
  });

  it('never contains the plaintext and uses a fresh IV every time', () => {
    const a = sut.seal('hunter2-hunter2', here);
    const b = sut.seal('hunter2-hunter2', here);
    expect(a[ENCRYPTED_KEY]).not.toContain('hunter2');
    expect(Buffer.from(a[ENCRYPTED_KEY].split('.')[4], 'base64url').toString()).not.toContain('hunter2');
    expect(a[ENCRYPTED_KEY]).not.toBe(b[ENCRYPTED_KEY]);
    expect(a[ENCRYPTED_KEY]).toMatch(/^v2\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('detects tampering (GCM tag)', () => {
    const [v, kid, iv, tag, ct] = sut.seal('amount: 100', here)[ENCRYPTED_KEY].split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    expect(() => sut.open({ [ENCRYPTED_KEY]: [v, kid, iv, tag, flipped.toString('base64url')].join('.') }, here)).toThrow(SecretOpenError);
    expect(() => sut.open({ [ENCRYPTED_KEY]: [v, kid, iv, Buffer.alloc(16).toString('base64url'), ct].join('.') }, here)).toThrow(SecretOpenError);
  });

  it.each<[string, SecretBinding]>([
    ['another deployment', { ...here, id: '6f1c2a9e-0000-4000-8000-000000000002' }],
    ['another field', { ...here, path: '/smtp/password' }],
    ['another array element', { ...here, path: '/adminPassword/0' }],
    ['a template with the same id', { ...here, owner: 'template' }],
  ])('does not open an envelope moved to %s', (_where, elsewhere) => {
    const sealed = sut.seal('s3cret', here);
    expect(() => sut.open(sealed, elsewhere)).toThrow(expect.objectContaining({ reason: 'wrong-binding', message: expect.stringMatching(/does not open here/) }));
  });

  it('refuses envelopes of another key, an unknown version, or a broken shape', () => {
    const other = new SecretBox(Buffer.alloc(32, 4));
    expect(() => sut.open(other.seal('x', here), here)).toThrow(expect.objectContaining({ reason: 'unknown-key', message: 'secret was sealed with another key' }));
    const v9 = sut.seal('x', here)[ENCRYPTED_KEY].replace(/^v2/, 'v9');
    expect(() => sut.open({ [ENCRYPTED_KEY]: v9 }, here)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(() => sut.open({ [ENCRYPTED_KEY]: 'v2.abc' }, here)).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('opens an unbound (v1) envelope only when asked to, for the re-seal paths', () => {
    const legacy = sut.sealUnbound('old');
    expect(legacy[ENCRYPTED_KEY]).toMatch(/^v1\./);
    expect(() => sut.open(legacy, here)).toThrow(expect.objectContaining({ reason: 'unbound', message: expect.stringMatching(/rotate-encryption-key/) }));
    expect(sut.open(legacy, here, { allowUnbound: true })).toBe('old');
    expect(sut.needsReseal(legacy)).toBe(true);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32-byte/);
  });

  it('recognises sealed envelopes only', () => {
    expect(SecretBox.isSealed(sut.seal('x', here))).toBe(true);
    expect([null, 'x', {}, { [ENCRYPTED_KEY]: 1 }, [sut.seal('x', here)]].map((v) => SecretBox.isSealed(v))).toEqual([false, false, false, false, false]);
  });
});

describe(`${SecretBox.name} during a key rotation`, () => {
  const oldKey = Buffer.alloc(32, 1);
  const newKey = Buffer.alloc(32, 2);

  it('seals with the current key and opens what previous keys sealed', () => {
    const before = new SecretBox(oldKey);
    const sut = new SecretBox(newKey, [oldKey]);
    const old = before.seal('kept', here);
    expect(sut.open(old, here)).toBe('kept');
    expect(sut.needsReseal(old)).toBe(true);
    const fresh = sut.seal('new', here);
    expect(fresh[ENCRYPTED_KEY].split('.')[1]).toBe(sut.currentKeyId);
    expect(sut.needsReseal(fresh)).toBe(false);
    expect(() => before.open(fresh, here)).toThrow(/another key/);
  });

  it('still refuses keys it does not hold', () => {
    const sut = new SecretBox(newKey, [oldKey]);
    expect(() => sut.open(new SecretBox(Buffer.alloc(32, 9)).seal('x', here), here)).toThrow(/another key/);
    expect(() => new SecretBox(newKey, [Buffer.alloc(8)])).toThrow(/32-byte/);
  });
});
