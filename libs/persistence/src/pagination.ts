/** Keyset pagination over (created_at, id): stable under concurrent inserts, no OFFSET scans. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CursorPosition {
  createdAt: string;
  id: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid');
  }
}

export function encodeCursor(pos: CursorPosition): string {
  return Buffer.from(JSON.stringify([pos.createdAt, pos.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      !Number.isNaN(Date.parse(parsed[0])) &&
      typeof parsed[1] === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(parsed[1])
    ) {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/**
 * The WHERE clause for rows after the cursor's row. Its position is read back from the row
 * itself, because a JS Date keeps milliseconds while Postgres keeps microseconds: comparing with
 * the millisecond value from the cursor would return the cursor's own row again.
 */
export function afterCursor(table: string, alias: string, cursor: string): [string, { cursorId: string }] {
  const { id } = decodeCursor(cursor);
  return [`(${alias}.created_at, ${alias}.id) > (SELECT c.created_at, c.id FROM ${table} c WHERE c.id = :cursorId)`, { cursorId: id }];
}

/** Given limit+1 rows, returns the page and the cursor of the last row shown. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: String(last.id) }) : null,
  };
}
