import { InvalidCursorError } from '../../persistence/src';
import { DomainError } from './errors';
import { readPage } from './pagination';

describe(readPage.name, () => {
  it("turns the repository's cursor error into InvalidInput on the cursor field", async () => {
    const err = await readPage(() => Promise.reject(new InvalidCursorError())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'InvalidInput', message: 'cursor is not valid', fields: [{ field: 'cursor', message: 'must be a cursor returned by a previous page' }] });
  });

  it('passes pages and other errors through', async () => {
    await expect(readPage(async () => ({ items: [1], nextCursor: null }))).resolves.toEqual({ items: [1], nextCursor: null });
    const boom = new Error('connection refused');
    await expect(readPage(() => Promise.reject(boom))).rejects.toBe(boom);
  });
});
