import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import {
  createErrorHandler,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from '@rjsf/utils';

// react-jsonschema-form's own validator compiles schemas to code (ajv, `new Function`), which the
// API's Content-Security-Policy rightly blocks; @cfworker/json-schema interprets them instead.

/** Keywords whose errors only say "something below failed"; the leaf errors say what. */
const WRAPPERS = new Set(['properties', 'items', 'prefixItems', '$ref', 'allOf', 'additionalItems', 'unevaluatedProperties', 'patternProperties', 'dependentSchemas', 'if', 'then', 'else']);

function pointerToProperty(instanceLocation: string): string {
  const parts = instanceLocation
    .replace(/^#/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.map((p) => `.${p}`).join('');
}

function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (WRAPPERS.has(e.keyword)) return false;
    const key = `${e.instanceLocation} ${e.error}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function withRoot(schema: RJSFSchema, rootSchema?: RJSFSchema): Schema {
  if (!rootSchema || schema === rootSchema) return schema as Schema;
  return { ...(schema as object), definitions: rootSchema.definitions, $defs: (rootSchema as { $defs?: unknown }).$defs };
}

function run(schema: RJSFSchema, formData: unknown, rootSchema?: RJSFSchema): OutputUnit[] {
  const v = new Validator(withRoot(schema, rootSchema), '7', false);
  const result = v.validate(formData === undefined ? {} : formData);
  return result.valid ? [] : leafErrors(result.errors);
}

function toRjsfErrors(errors: OutputUnit[]): RJSFValidationError[] {
  return errors.map((e) => {
    const property = pointerToProperty(e.instanceLocation);
    return { name: e.keyword, property, message: e.error, stack: `${property || '.'} ${e.error}`.trim(), schemaPath: e.keywordLocation };
  });
}

export const cspSafeValidator: ValidatorType = {
  validateFormData(formData: unknown, schema: RJSFSchema, customValidate?: CustomValidator, transformErrors?: ErrorTransformer, uiSchema?: UiSchema): ValidationData<unknown> {
    let errors: RJSFValidationError[];
    try {
      errors = toRjsfErrors(run(schema, formData));
    } catch (err) {
      errors = [{ name: 'schema', property: '', message: `the template's schema cannot be used: ${(err as Error).message}`, stack: (err as Error).message }];
    }
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const data: ValidationData<unknown> = { errors, errorSchema: toErrorSchema(errors) };
    if (!customValidate) return data;
    const handler = customValidate(formData, createErrorHandler(formData), uiSchema);
    return validationDataMerge(data, unwrapErrorHandler(handler));
  },
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      return run(schema, formData, rootSchema).length === 0;
    } catch {
      return false;
    }
  },
  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    try {
      return { errors: run(schema, formData) as unknown as Result[] };
    } catch (err) {
      return { validationError: err as Error };
    }
  },
};
