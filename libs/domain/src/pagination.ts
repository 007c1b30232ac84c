import { InvalidCursorError } from '../../persistence/src';
import { invalidInput } from './errors';

/** A cursor the client made up or mangled: bad input, not a server error. */
export const invalidCursor = () => invalidInput('cursor is not valid', [{ field: 'cursor', message: 'must be a cursor returned by a previous page' }]);

/** Runs a paged repository read, turning the repository's cursor error into the domain's. */
export async function readPage<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidCursorError) throw invalidCursor();
    throw err;
  }
}
