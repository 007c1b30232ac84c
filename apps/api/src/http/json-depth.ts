/** Deeper bodies are refused before parsing: recursive transforms and validators would overflow the stack. */
export const MAX_JSON_DEPTH = 128;

export class JsonTooDeepError extends Error {
  readonly type = 'entity.too.deep';
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;

  constructor(readonly limit: number) {
    super(`the request body is nested more than ${limit} levels deep`);
    this.name = 'JsonTooDeepError';
  }
}

/** Nesting depth of raw JSON text, counting brackets outside strings; stops early past `limit`. */
export function exceedsJsonDepth(raw: Buffer | string, limit: number): boolean {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** body-parser `verify` hook. */
export function rejectDeepJson(limit = MAX_JSON_DEPTH) {
  return (_req: unknown, _res: unknown, buf: Buffer): void => {
    if (exceedsJsonDepth(buf, limit)) throw new JsonTooDeepError(limit);
  };
}
