import { decodeCursor, encodeCursor, InvalidCursorError, toPage } from './pagination';

const ID = '0b7c5f0e-3a54-4f61-9d6e-2b4f2f3b9a10';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('pagination', () => {
  it('round-trips a cursor', () => {
    const sut = encodeCursor({ createdAt: '2026-11-22T10:00:00.123Z', id: ID });
    expect(sut).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(sut)).toEqual({ createdAt: '2026-11-22T10:00:00.123Z', id: ID });
  });

  it.each([
    ['not base64 JSON', 'garbage'],
    ['an empty string', ''],
    ['an object', b64({ createdAt: '2026-11-22T10:00:00Z', id: ID })],
    ['three elements', b64(['2026-11-22T10:00:00Z', ID, 1])],
    ['a bad date', b64(['yesterday', ID])],
    ['a number for the date', b64([1, ID])],
    ['an id that is not a UUID', b64(['2026-11-22T10:00:00Z', 'abc'])],
    ['an id of only dashes', b64(['2026-11-22T10:00:00Z', '----'])],
    ['a date Postgres would not read', b64(['Tuesday', ID])],
    ['SQL in the id', b64(['2026-11-22T10:00:00Z', "x' OR 1=1 --"])],
  ])('refuses %s', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(InvalidCursorError);
  });

  describe(toPage.name, () => {
    const rows = [1, 2, 3].map((i) => ({ id: `id-${i}`, createdAt: new Date(Date.UTC(2026, 10, 22, 10, 0, i)) }));

    it('returns limit rows and a cursor when there are more', () => {
      const sut = toPage(rows, 2);
      expect(sut.items.map((r) => r.id)).toEqual(['id-1', 'id-2']);
      expect(JSON.parse(Buffer.from(sut.nextCursor!, 'base64url').toString())).toEqual(['2026-11-22T10:00:02.000Z', 'id-2']);
    });

    it('has no cursor on the last page', () => {
      expect(toPage(rows, 3).nextCursor).toBeNull();
      expect(toPage([], 3)).toEqual({ items: [], nextCursor: null });
    });
  });
});
