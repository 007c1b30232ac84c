import { resealAll } from './key-rotation';
import { ENCRYPTED_KEY, SecretBox } from './secret-box';
import { deploymentOwner } from './secret-paths';

describe(resealAll.name, () => {
  const owner = deploymentOwner('dep-1');
  const at = (path: string) => ({ ...owner, path });
  const oldBox = new SecretBox(Buffer.alloc(32, 1));
  const sut = new SecretBox(Buffer.alloc(32, 2), [Buffer.alloc(32, 1)]);

  it('re-seals leaves sealed with a previous key, anywhere in the document, and keeps the rest', () => {
    const current = sut.seal('already-new', at('/smtp/password'));
    const doc = { title: 'plain', adminPassword: oldBox.seal('pw-1', at('/adminPassword')), smtp: { password: current }, tokens: [oldBox.seal('t1', at('/tokens/0')), 'plain'] };

    const { doc: out, resealed } = resealAll(doc, sut, owner) as { doc: typeof doc; resealed: number };

    expect(resealed).toBe(2);
    expect(out.title).toBe('plain');
    expect(out.smtp.password).toBe(current);
    expect(out.tokens[1]).toBe('plain');
    for (const sealed of [out.adminPassword, out.tokens[0] as { [ENCRYPTED_KEY]: string }]) {
      expect(sut.needsReseal(sealed)).toBe(false);
      expect(() => oldBox.open(sealed, at('/adminPassword'))).toThrow();
    }
    expect(sut.open(out.adminPassword, at('/adminPassword'))).toBe('pw-1');
    expect(sut.open(out.tokens[0] as { [ENCRYPTED_KEY]: string }, at('/tokens/0'))).toBe('t1');
  });

  it('binds unbound (v1) envelopes to where they are', () => {
    const { doc, resealed } = resealAll({ a: { b: sut.sealUnbound('legacy') } }, sut, owner) as { doc: { a: { b: { [ENCRYPTED_KEY]: string } } }; resealed: number };
    expect(resealed).toBe(1);
    expect(doc.a.b[ENCRYPTED_KEY]).toMatch(/^v2\./);
    expect(sut.open(doc.a.b, at('/a/b'))).toBe('legacy');
    expect(() => sut.open(doc.a.b, at('/a/c'))).toThrow(/does not open here/);
  });

  it('changes nothing when everything is sealed with the current key', () => {
    const doc = { a: sut.seal('x', at('/a')) };
    expect(resealAll(doc, sut, owner)).toEqual({ doc, resealed: 0 });
  });

  it('fails on a value no configured key opens, or that was copied from elsewhere', () => {
    expect(() => resealAll({ a: new SecretBox(Buffer.alloc(32, 7)).seal('x', at('/a')) }, sut, owner)).toThrow(/another key/);
    expect(() => resealAll({ a: oldBox.seal('x', { ...at('/a'), id: 'dep-2' }) }, sut, owner)).toThrow(/does not open here/);
  });
});
