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
      this.compile(schema);
      // A dry compile: do not keep the schema (or its $id) registered in the shared ajv instance.
      this.ajv.removeSchema(schema);
      return [];
    } catch (err) {
      return [{ field: 'valuesSchema', message: `is not a valid JSON Schema: ${(err as Error).message}` }];
    }
  }

  validate(cacheKey: string, schema: Record<string, unknown> | null, values: unknown): FieldProblem[] {
    if (!schema) return [];
    let fn = this.cache.get(cacheKey);
    if (!fn) {
      fn = this.compile(schema);
      this.cache.set(cacheKey, fn);
    }
    if (fn(values)) return [];
    return (fn.errors ?? []).map(describe);
  }

  /** Versions of one product usually share a schema `$id`, and ajv refuses a second schema under a known id. */
  private compile(schema: object): ValidateFunction {
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id === 'string') this.ajv.removeSchema(id.replace(/#$/, ''));
    return this.ajv.compile(schema);
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
