import { TemplateVersionEntity } from '../../../persistence/src';
import { FieldProblem, invalidValues } from '../errors';
import { deepMerge, deploymentOwner, isPlainObject, JsonObject, jsonDepth, openAllSealed, reservedKeyProblems, SecretBox, secretLocations, templateOwner, ValuePath, ValuesValidator } from '../values';

export const MAX_VALUES_BYTES = 64 * 1024;
export const MAX_VALUES_DEPTH = 16;

export interface SystemValues {
  deploymentUid: string;
  domainName: string;
}

/** The deployment a values document belongs to: its id binds its sealed secrets. */
export interface ValuesOwner extends SystemValues {
  id: string;
}

/** defaults + { user: values } + system overrides: what helm receives, and what the schema checks. Both layers already opened. */
export function mergeValues(defaults: JsonObject, userValues: JsonObject, system: SystemValues): JsonObject {
  return deepMerge(defaults, { user: userValues }, { caelus: { deploymentUid: system.deploymentUid, domainName: system.domainName } });
}

/** A template's default values with its sealed defaults opened. */
export function openDefaults(box: SecretBox, template: TemplateVersionEntity): JsonObject {
  return openAllSealed(template.defaultValues ?? {}, box, templateOwner(template.id)) as JsonObject;
}

/** The merged values with every secret opened (the template's and the deployment's): for helm only. */
export function openValues(box: SecretBox, template: TemplateVersionEntity, userValues: JsonObject, owner: ValuesOwner): JsonObject {
  return mergeValues(openDefaults(box, template), openAllSealed(userValues, box, deploymentOwner(owner.id)) as JsonObject, owner);
}

/**
 * Where the merged values hold secrets: what the template's schema marks secret, and every
 * sealed leaf of the defaults and of the user's values (also one a newer schema no longer marks).
 * A release backend that writes values outside helm's storage keeps these apart.
 */
export function secretValuePaths(template: Pick<TemplateVersionEntity, 'valuesSchema' | 'defaultValues'>, userValues: JsonObject, merged: JsonObject): ValuePath[] {
  const found = new Map<string, ValuePath>();
  const add = (path: ValuePath) => found.set(JSON.stringify(path), path);
  for (const path of secretLocations(template.valuesSchema, merged)) add(path);
  const sealed = (doc: unknown, path: ValuePath): void => {
    if (SecretBox.isSealed(doc)) add(path);
    else if (Array.isArray(doc)) doc.forEach((d, i) => sealed(d, [...path, String(i)]));
    else if (isPlainObject(doc)) for (const [k, v] of Object.entries(doc)) sealed(v, [...path, k]);
  };
  sealed(template.defaultValues ?? {}, []);
  sealed(userValues, ['user']);
  return [...found.values()];
}

/** Shape checks that hold whatever the schema says. */
export function checkUserValuesShape(values: unknown): FieldProblem[] {
  if (!isPlainObject(values)) return [{ field: 'values', message: 'must be a JSON object' }];
  if (JSON.stringify(values).length > MAX_VALUES_BYTES) return [{ field: 'values', message: `must be at most ${MAX_VALUES_BYTES} bytes of JSON` }];
  if (jsonDepth(values) > MAX_VALUES_DEPTH) return [{ field: 'values', message: `must be nested at most ${MAX_VALUES_DEPTH} levels` }];
  return [];
}

/** Values as a client sent them: a 400 if they carry the envelope key anywhere (fields named like the schema's, under /user). */
export function assertNoClientEnvelopes(values: unknown): void {
  const problems = reservedKeyProblems(values, '/user');
  if (problems.length) throw invalidValues('values must not contain encrypted envelopes', problems);
}

/**
 * Validates user values (plain or with sealed secrets) against a template. Throws InvalidValues
 * naming the failing fields; the offending values themselves are never echoed.
 */
export function assertValuesValid(validator: ValuesValidator, box: SecretBox, template: TemplateVersionEntity, userValues: JsonObject, owner: ValuesOwner): void {
  const shape = checkUserValuesShape(userValues);
  if (shape.length) throw invalidValues('values are not valid', shape);
  const problems = validator.validate(template.id, template.valuesSchema, openValues(box, template, userValues, owner));
  if (problems.length) throw invalidValues(`values do not match the schema of template ${template.version}`, problems);
}
