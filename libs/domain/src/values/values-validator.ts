import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { FieldProblem } from '../errors';
import { SECRET_KEYWORD } from './secret-paths';

/**
 * JSON Schema validation of merged values with ajv. Compiled validators are cached by key
 * (a template id: templates are immutable, so the schema behind an id never changes).
 */
export class ValuesValidator {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
  }

  /** Problems with the schema itself, or [] when it compiles. */
  checkSchema(schema: unknown): FieldProblem[] {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      return [{ field: 'valuesSchema', message: 'must be a JSON Schema object' }];
    }
    try {
      this.ajv.compile(schema);
      return [];
    } catch (err) {
      return [{ field: 'valuesSchema', message: `is not a valid JSON Schema: ${(err as Error).message}` }];
    }
  }

  validate(cacheKey: string, schema: Record<string, unknown> | null, values: unknown): FieldProblem[] {
    if (!schema) return [];
    let fn = this.cache.get(cacheKey);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.cache.set(cacheKey, fn);
    }
    if (fn(values)) return [];
    return (fn.errors ?? []).map(describe);
  }
}

/** A field and message that never echo the offending value (it may be a secret). */
function describe(e: ErrorObject): FieldProblem {
  let field = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') field = `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`;
  if (e.keyword === 'required') field = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
  const message = e.keyword === 'additionalProperties' ? 'is not an allowed property' : (e.message ?? 'is invalid');
  return { field, message };
}
