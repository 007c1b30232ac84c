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
  /**
   * Schemas being published are compiled in ajv's strict mode, so a typo such as `maxLenght`, an
   * unknown format or any unknown keyword (bar x-caelus-secret) is refused instead of silently
   * validating nothing. strictTypes stays off: it refuses ordinary schemas (`properties` without
   * `type: object`). Stored schemas keep the lenient instance, so templates published before keep working.
   */
  private readonly strictAjv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = withCaelusKeywords(new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }));
    this.strictAjv = withCaelusKeywords(new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, allowUnionTypes: true }));
  }

  /** Problems with the schema itself, or [] when it compiles. */
  checkSchema(schema: unknown): FieldProblem[] {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      return [{ field: 'valuesSchema', message: 'must be a JSON Schema object' }];
    }
    try {
      this.compile(schema, this.strictAjv);
      // A dry compile: do not keep the schema (or its $id) registered in the shared ajv instance.
      this.strictAjv.removeSchema(schema);
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
  private compile(schema: object, ajv = this.ajv): ValidateFunction {
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id === 'string') ajv.removeSchema(id.replace(/#$/, ''));
    return ajv.compile(schema);
  }
}

function withCaelusKeywords(ajv: Ajv): Ajv {
  addFormats(ajv);
  ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
  return ajv;
}

/** A field and message that never echo the offending value (it may be a secret). */
function describe(e: ErrorObject): FieldProblem {
  let field = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') field = `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`;
  if (e.keyword === 'required') field = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
  const message = e.keyword === 'additionalProperties' ? 'is not an allowed property' : (e.message ?? 'is invalid');
  return { field, message };
}
