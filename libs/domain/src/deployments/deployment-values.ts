import { TemplateVersionEntity } from '../../../persistence/src';
import { FieldProblem, invalidValues } from '../errors';
import { deepMerge, isPlainObject, JsonObject, jsonDepth, openAllSealed, SecretBox, ValuesValidator } from '../values';

export const MAX_VALUES_BYTES = 64 * 1024;
export const MAX_VALUES_DEPTH = 16;

export interface SystemValues {
  deploymentUid: string;
  domainName: string;
}

/** defaults + { user: values } + system overrides: what helm receives, and what the schema checks. */
export function mergeValues(template: TemplateVersionEntity, userValues: JsonObject, system: SystemValues): JsonObject {
  return deepMerge(template.defaultValues ?? {}, { user: userValues }, { caelus: { deploymentUid: system.deploymentUid, domainName: system.domainName } });
}

/** Shape checks that hold whatever the schema says. */
export function checkUserValuesShape(values: unknown): FieldProblem[] {
  if (!isPlainObject(values)) return [{ field: 'values', message: 'must be a JSON object' }];
  if (JSON.stringify(values).length > MAX_VALUES_BYTES) return [{ field: 'values', message: `must be at most ${MAX_VALUES_BYTES} bytes of JSON` }];
  if (jsonDepth(values) > MAX_VALUES_DEPTH) return [{ field: 'values', message: `must be nested at most ${MAX_VALUES_DEPTH} levels` }];
  return [];
}

/**
 * Validates user values (plain or with sealed secrets) against a template. Throws InvalidValues
 * naming the failing fields; the offending values themselves are never echoed.
 */
export function assertValuesValid(
  validator: ValuesValidator,
  box: SecretBox,
  template: TemplateVersionEntity,
  userValues: JsonObject,
  system: SystemValues,
): void {
  const shape = checkUserValuesShape(userValues);
  if (shape.length) throw invalidValues('values are not valid', shape);
  const plain = openAllSealed(userValues, box) as JsonObject;
  const problems = validator.validate(template.id, template.valuesSchema, mergeValues(template, plain, system));
  if (problems.length) throw invalidValues(`values do not match the schema of template ${template.version}`, problems);
}
