import { resealAll } from './key-rotation';
import { ENCRYPTED_KEY, SecretBox } from './secret-box';

describe(resealAll.name, () => {
  const oldBox = new SecretBox(Buffer.alloc(32, 1));
  const sut = new SecretBox(Buffer.alloc(32, 2), [Buffer.alloc(32, 1)]);

  it('re-seals leaves sealed with a previous key, anywhere in the document, and keeps the rest', () => {
    const current = sut.seal('already-new');
    const doc = { title: 'plain', adminPassword: oldBox.seal('pw-1'), smtp: { password: current }, tokens: [oldBox.seal('t1'), 'plain'] };

    const { doc: out, resealed } = resealAll(doc, sut) as { doc: typeof doc; resealed: number };

    expect(resealed).toBe(2);
    expect(out.title).toBe('plain');
    expect(out.smtp.password).toBe(current);
    expect(out.tokens[1]).toBe('plain');
    for (const sealed of [out.adminPassword, out.tokens[0] as { [ENCRYPTED_KEY]: string }]) {
      expect(sut.needsReseal(sealed)).toBe(false);
      expect(() => oldBox.open(sealed)).toThrow();
    }
    expect(sut.open(out.adminPassword)).toBe('pw-1');
    expect(sut.open(out.tokens[0] as { [ENCRYPTED_KEY]: string })).toBe('t1');
  });

  it('changes nothing when everything is sealed with the current key', () => {
    const doc = { a: sut.seal('x') };
    expect(resealAll(doc, sut)).toEqual({ doc, resealed: 0 });
  });

  it('fails on a value no configured key opens', () => {
    expect(() => resealAll({ a: new SecretBox(Buffer.alloc(32, 7)).seal('x') }, sut)).toThrow(/another key/);
  });
});
