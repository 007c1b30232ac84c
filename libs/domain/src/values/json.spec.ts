import { deepMerge, isPlainObject, jsonDepth } from './json';

describe('json', () => {
  describe(deepMerge.name, () => {
    it('merges objects key by key, later layers winning', () => {
      expect(deepMerge({ a: 1, o: { x: 1, y: 2 } }, { o: { y: 3, z: 4 } }, { b: 2 })).toEqual({ a: 1, o: { x: 1, y: 3, z: 4 }, b: 2 });
    });

    it('replaces arrays and scalars instead of merging them', () => {
      expect(deepMerge({ list: [1, 2, 3], o: { k: 1 } }, { list: [9], o: 'flat' })).toEqual({ list: [9], o: 'flat' });
      expect(deepMerge({ o: 'flat' }, { o: { k: 1 } })).toEqual({ o: { k: 1 } });
    });

    it('lets null override a default', () => {
      expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
    });

    it('does not share structure with its inputs', () => {
      const a = { o: { list: [1] } };
      const b = { p: { q: 1 } };
      const sut = deepMerge(a, b);
      (sut.o as { list: number[] }).list.push(2);
      (sut.p as { q: number }).q = 2;
      expect(a).toEqual({ o: { list: [1] } });
      expect(b).toEqual({ p: { q: 1 } });
    });

    it('keeps a "__proto__" key from parsed JSON as data and never changes a prototype', () => {
      const sut = deepMerge({ a: 1 }, JSON.parse('{"__proto__": {"polluted": true}, "user": {"__proto__": {"x": 1}}}'));
      expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
      expect((sut.user as Record<string, unknown>).x).toBeUndefined();
      expect(Object.hasOwn(sut.user as object, '__proto__')).toBe(true);
      expect((sut as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.keys(sut)).toEqual(['a', '__proto__', 'user']);
      expect(Object.keys(sut.user as object)).toEqual(['__proto__']);
    });
  });

  describe(jsonDepth.name, () => {
    it.each([
      [1, 0],
      [null, 0],
      [{}, 1],
      [[], 1],
      [{ a: 1 }, 1],
      [{ a: { b: [1, { c: 2 }] } }, 4],
    ])('%j is %i deep', (v, depth) => expect(jsonDepth(v)).toBe(depth));
  });

  describe(isPlainObject.name, () => {
    it('is true for objects only', () => {
      expect([{}, { a: 1 }, [], null, 'x', 1].map(isPlainObject)).toEqual([true, true, false, false, false, false]);
    });
  });
});
