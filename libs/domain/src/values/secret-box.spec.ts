import { ENCRYPTED_KEY, SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const sut = new SecretBox(Buffer.alloc(32, 3));

  it('round-trips JSON values of any type', () => {
    for (const v of ['s3cret', '', 42, true, null, { nested: ['a', 1] }, 'ünïcødé ✓']) expect(sut.open(sut.seal(v))).toEqual(v);
  });

  it('never contains the plaintext and uses a fresh IV every time', () => {
    const a = sut.seal('hunter2-hunter2');
    const b = sut.seal('hunter2-hunter2');
    expect(a[ENCRYPTED_KEY]).not.toContain('hunter2');
    expect(Buffer.from(a[ENCRYPTED_KEY].split('.')[4], 'base64url').toString()).not.toContain('hunter2');
    expect(a[ENCRYPTED_KEY]).not.toBe(b[ENCRYPTED_KEY]);
    expect(a[ENCRYPTED_KEY]).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('detects tampering (GCM tag)', () => {
    const [v, kid, iv, tag, ct] = sut.seal('amount: 100')[ENCRYPTED_KEY].split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    expect(() => sut.open({ [ENCRYPTED_KEY]: [v, kid, iv, tag, flipped.toString('base64url')].join('.') })).toThrow();
    expect(() => sut.open({ [ENCRYPTED_KEY]: [v, kid, iv, Buffer.alloc(16).toString('base64url'), ct].join('.') })).toThrow();
  });

  it('refuses envelopes of another key or version', () => {
    const other = new SecretBox(Buffer.alloc(32, 4));
    expect(() => sut.open(other.seal('x'))).toThrow(/another key/);
    const sealed = sut.seal('x')[ENCRYPTED_KEY].replace(/^v1/, 'v2');
    expect(() => sut.open({ [ENCRYPTED_KEY]: sealed })).toThrow(/another key/);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32-byte/);
  });

  it('recognises sealed envelopes only', () => {
    expect(SecretBox.isSealed(sut.seal('x'))).toBe(true);
    expect([null, 'x', {}, { [ENCRYPTED_KEY]: 1 }, [sut.seal('x')]].map((v) => SecretBox.isSealed(v))).toEqual([false, false, false, false, false]);
  });
});

describe(`${SecretBox.name} during a key rotation`, () => {
  const oldKey = Buffer.alloc(32, 1);
  const newKey = Buffer.alloc(32, 2);

  it('seals with the current key and opens what previous keys sealed', () => {
    const before = new SecretBox(oldKey);
    const sut = new SecretBox(newKey, [oldKey]);
    const old = before.seal('kept');
    expect(sut.open(old)).toBe('kept');
    expect(sut.needsReseal(old)).toBe(true);
    const fresh = sut.seal('new');
    expect(fresh[ENCRYPTED_KEY].split('.')[1]).toBe(sut.currentKeyId);
    expect(sut.needsReseal(fresh)).toBe(false);
    expect(() => before.open(fresh)).toThrow(/another key/);
  });

  it('still refuses keys it does not hold', () => {
    const sut = new SecretBox(newKey, [oldKey]);
    expect(() => sut.open(new SecretBox(Buffer.alloc(32, 9)).seal('x'))).toThrow(/another key/);
    expect(() => new SecretBox(newKey, [Buffer.alloc(8)])).toThrow(/32-byte/);
  });
});
