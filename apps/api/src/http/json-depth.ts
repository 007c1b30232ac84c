/** Deeper bodies are refused before parsing: recursive transforms and validators would overflow the stack. */
export const MAX_JSON_DEPTH = 128;

/** Shaped like body-parser's own errors (type, status, expose), so they are answered the same way. */
abstract class JsonBodyRefusedError extends Error {
  abstract readonly type: string;
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;
}

export class JsonTooDeepError extends JsonBodyRefusedError {
  readonly type = 'entity.too.deep';

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
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
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

export class JsonForbiddenKeyError extends JsonBodyRefusedError {
  readonly type = 'entity.forbidden.key';

  constructor(readonly key: string) {
    super(`the request body may not contain the key "${key}"`);
    this.name = 'JsonForbiddenKeyError';
  }
}

/**
 * True when parsed JSON would have a `__proto__` key somewhere. class-transformer drops such keys
 * silently (so `values: {"__proto__": …}` was stored as `{}` with a 202), and elsewhere they are a
 * prototype-pollution vector. The key may be written with escapes, so candidates are parsed.
 */
export function hasProtoKey(raw: Buffer | string): boolean {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (!text.includes('__proto__') && !text.includes('\\u')) return false;
  let found = false;
  try {
    JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') found = true;
      return value;
    });
  } catch {
    return false; // body-parser reports the syntax error itself
  }
  return found;
}

/** body-parser `verify` hook: the depth limit, then no `__proto__` keys. */
export function verifyJsonBody(limit = MAX_JSON_DEPTH) {
  const deep = rejectDeepJson(limit);
  return (req: unknown, res: unknown, buf: Buffer): void => {
    deep(req, res, buf);
    if (hasProtoKey(buf)) throw new JsonForbiddenKeyError('__proto__');
  };
}
