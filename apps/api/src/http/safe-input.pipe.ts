import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { FieldProblem, invalidInput } from '../../../../libs/domain/src';

/**
 * C0 and C1 control characters except tab, line feed and carriage return (ordinary in free text
 * and in values such as a config file), and unpaired UTF-16 surrogates. Postgres cannot store
 * NUL in text or jsonb and refuses lone surrogate escapes in jsonb; they were 500s.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
const BAD_IN_STRING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Keys get no control characters at all. */
// eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
const BAD_IN_KEY = /[\u0000-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Keys Nest's ValidationPipe deletes from every body (prototype pollution), which silently
 * dropped them from values and schemas: refused explicitly instead. Other keys named like
 * Object.prototype members (`toString`, `valueOf`…) are ordinary data and are kept.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

/** The first problem in a parsed body or query, naming the field; never quoting the value. */
export function findUnsafeInput(value: unknown, path = ''): FieldProblem | null {
  if (typeof value === 'string') {
    return BAD_IN_STRING.test(value) ? { field: path || 'body', message: 'must not contain NUL or other control characters, or invalid Unicode' } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findUnsafeInput(value[i], join(path, i));
      if (p) return p;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (BAD_IN_KEY.test(key)) return { field: path || 'body', message: 'has a key with a control character or invalid Unicode' };
      if (RESERVED_KEYS.includes(key)) return { field: join(path, key), message: `is a reserved key: ${RESERVED_KEYS.join(', ')} are refused` };
      const p = findUnsafeInput((value as Record<string, unknown>)[key], join(path, key));
      if (p) return p;
    }
  }
  return null;
}

/**
 * Runs before validation on every body and query: control characters, invalid Unicode and
 * reserved keys are a 400 naming the field, whatever the route or DTO.
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type !== 'body' && meta.type !== 'query') return value;
    const problem = findUnsafeInput(value);
    if (problem) throw invalidInput(`invalid request: ${problem.field} ${problem.message}`, [problem]);
    return value;
  }
}
