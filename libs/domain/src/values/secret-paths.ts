import { conflict, invalidValues } from '../errors';
import { isPlainObject, JsonObject } from './json';
import { REDACTED, SecretBinding, SecretBox, SecretOpenError } from './secret-box';

/** A concrete location in a values document: object keys and array indices. */
export type ValuePath = string[];

export const SECRET_KEYWORD = 'x-caelus-secret';

/** The row whose document holds sealed values; with a path it is the envelope's binding. */
export type SecretOwner = Omit<SecretBinding, 'path'>;

export const deploymentOwner = (id: string): SecretOwner => ({ owner: 'deployment', id });
export const templateOwner = (id: string): SecretOwner => ({ owner: 'template', id });

/** RFC 6901 JSON pointer of a path ("" for the document itself). */
export function toPointer(path: readonly string[]): string {
  return path.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The schema a local `$ref` ("#/definitions/x", "#/$defs/x", "#") points at, if any. */
function resolveLocalRef(root: unknown, ref: string): unknown {
  const pointer = ref.slice(1);
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined), root);
}

function matches(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(key);
  } catch {
    return false;
  }
}

/** Subschemas that apply to the same document location as `schema` itself. */
function inPlace(schema: JsonObject): unknown[] {
  const out: unknown[] = [];
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(schema[k])) out.push(...(schema[k] as unknown[]));
  // Both branches of a conditional: a field is secret if either may apply (sealing more is safe).
  out.push(schema.if, schema.then, schema.else);
  for (const k of ['dependentSchemas', 'dependencies'] as const) if (isPlainObject(schema[k])) out.push(...Object.values(schema[k]));
  return out;
}

/**
 * Locations in `doc` that the schema marks `"x-caelus-secret": true`. The schema is walked
 * together with the document, as a validator would, so a secret is found wherever a schema can
 * put a field: properties, patternProperties, additionalProperties, items, prefixItems (and
 * draft-07 tuple items with additionalItems), allOf/anyOf/oneOf, if/then/else, dependent
 * schemas and local `$ref`s. Where a validator would pick one branch (anyOf, if/then/else), every
 * branch counts: sealing a field that did not need it is harmless, missing one is not.
 */
export function secretLocations(schema: unknown, doc: unknown): ValuePath[] {
  const found = new Map<string, ValuePath>();
  const visit = (s: unknown, node: unknown, path: ValuePath, refsHere: ReadonlySet<string>): void => {
    if (!isPlainObject(s)) return;
    if (s[SECRET_KEYWORD] === true) {
      found.set(toPointer(path), path);
      return;
    }
    // A sealed leaf is opaque: nothing inside it is a field.
    if (SecretBox.isSealed(node)) return;
    const ref = s.$ref;
    // refsHere breaks cycles of refs that do not descend into the document.
    if (typeof ref === 'string' && ref.startsWith('#') && !refsHere.has(ref)) visit(resolveLocalRef(schema, ref), node, path, new Set([...refsHere, ref]));
    for (const sub of inPlace(s)) visit(sub, node, path, refsHere);

    if (isPlainObject(node)) {
      const properties = isPlainObject(s.properties) ? s.properties : {};
      const patterns = isPlainObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
      for (const [key, value] of Object.entries(node)) {
        const here = [...path, key];
        let named = false;
        if (Object.hasOwn(properties, key)) {
          named = true;
          visit(properties[key], value, here, new Set());
        }
        for (const [pattern, sub] of patterns) {
          if (!matches(pattern, key)) continue;
          named = true;
          visit(sub, value, here, new Set());
        }
        if (!named) {
          visit(s.additionalProperties, value, here, new Set());
          visit(s.unevaluatedProperties, value, here, new Set());
        }
      }
    } else if (Array.isArray(node)) {
      const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
      const rest = Array.isArray(s.items) ? s.additionalItems : Array.isArray(s.prefixItems) ? (s.items ?? s.additionalItems) : s.items;
      node.forEach((value, i) => {
        const here = [...path, String(i)];
        visit(i < tuple.length ? tuple[i] : rest, value, here, new Set());
        visit(s.contains, value, here, new Set());
        visit(s.unevaluatedItems, value, here, new Set());
      });
    }
  };
  visit(schema, doc, [], new Set());
  return [...found.values()];
}

/** Secret locations inside the user's own values (the schema nests them under `user`). */
export function userSecretLocations(schema: unknown, userValues: JsonObject): ValuePath[] {
  const out: ValuePath[] = [];
  for (const p of secretLocations(schema, { user: userValues })) {
    if (p[0] !== 'user') continue;
    // `user` itself marked secret: each of its fields is sealed on its own.
    if (p.length === 1) out.push(...Object.keys(userValues).map((k) => [k]));
    else out.push(p.slice(1));
  }
  return out;
}

/** Returns a copy with every leaf at `paths` replaced by fn(leaf, path). Absent leaves stay absent. */
export function mapAtPaths(doc: JsonObject, paths: readonly ValuePath[], fn: (leaf: unknown, path: ValuePath) => unknown): JsonObject {
  const copy = structuredClone(doc);
  for (const path of paths) {
    let node: unknown = copy;
    for (let i = 0; i < path.length - 1 && node !== undefined; i++)
      node = isPlainObject(node) || Array.isArray(node) ? (Object.hasOwn(node, path[i]) ? (node as JsonObject)[path[i]] : undefined) : undefined;
    const last = path[path.length - 1];
    if ((isPlainObject(node) || Array.isArray(node)) && Object.hasOwn(node, last)) (node as JsonObject)[last] = fn((node as JsonObject)[last], path);
  }
  return copy;
}

export function redactSecrets(doc: JsonObject, paths: readonly ValuePath[]): JsonObject {
  return mapAtPaths(doc, paths, () => REDACTED);
}

/**
 * Seals every leaf at `paths` that is not sealed yet, bound to the owner and the leaf's path. A
 * leaf holding sealed values itself (an object a newer schema marks secret as a whole) is sealed
 * with those opened, so that opening it gives plain values again.
 */
export function sealSecrets(doc: JsonObject, paths: readonly ValuePath[], box: SecretBox, owner: SecretOwner): JsonObject {
  return mapAtPaths(doc, paths, (leaf, path) => (leaf === undefined || SecretBox.isSealed(leaf) ? leaf : box.seal(openAllSealed(leaf, box, owner, path), { ...owner, path: toPointer(path) })));
}

/** The error an envelope that does not open becomes: never a 500, and never retried when retrying cannot help. */
function openFailure(err: unknown, path: ValuePath): unknown {
  if (!(err instanceof SecretOpenError)) return err;
  const field = toPointer(path) || '/';
  // Another key or an unbound envelope heal (a key rollout finishing, the re-seal script); a copied or altered one never does.
  if (err.reason === 'unknown-key' || err.reason === 'unbound') return conflict('stored secret values do not open', [{ field, message: err.message }]);
  return invalidValues('stored secret values do not open', [{ field, message: err.message }]);
}

function openAt(box: SecretBox, sealed: Parameters<SecretBox['open']>[0], owner: SecretOwner, path: ValuePath): unknown {
  try {
    return box.open(sealed, { ...owner, path: toPointer(path) });
  } catch (err) {
    throw openFailure(err, path);
  }
}

/** Every sealed leaf anywhere in the document (also ones the current schema no longer marks), opened. */
export function openAllSealed(doc: unknown, box: SecretBox, owner: SecretOwner, path: ValuePath = []): unknown {
  if (SecretBox.isSealed(doc)) return openAt(box, doc, owner, path);
  if (Array.isArray(doc)) return doc.map((d, i) => openAllSealed(d, box, owner, [...path, String(i)]));
  if (isPlainObject(doc)) return withEntries(doc, (k, v) => openAllSealed(v, box, owner, [...path, k]));
  return doc;
}

/** The plain text of every sealed string leaf, for scrubbing it from output such as rendered manifests. */
export function sealedStrings(doc: unknown, box: SecretBox, owner: SecretOwner, path: ValuePath = []): string[] {
  if (SecretBox.isSealed(doc)) {
    const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : isPlainObject(v) ? Object.values(v).flatMap(strings) : []);
    return strings(openAt(box, doc, owner, path));
  }
  if (Array.isArray(doc)) return doc.flatMap((d, i) => sealedStrings(d, box, owner, [...path, String(i)]));
  if (isPlainObject(doc)) return Object.entries(doc).flatMap(([k, v]) => sealedStrings(v, box, owner, [...path, k]));
  return [];
}

/** Replaces every sealed leaf with the redaction marker. */
export function redactAllSealed(doc: unknown): unknown {
  if (SecretBox.isSealed(doc)) return REDACTED;
  if (Array.isArray(doc)) return doc.map(redactAllSealed);
  if (isPlainObject(doc)) return withEntries(doc, (_k, v) => redactAllSealed(v));
  return doc;
}

/**
 * A client that read redacted values and sends them back unchanged keeps the stored secret:
 * a leaf equal to the marker is replaced by what was stored at the same path (the envelope is
 * bound to that path, so it still opens).
 */
export function keepRedacted(incoming: JsonObject, stored: JsonObject, paths: readonly ValuePath[]): JsonObject {
  const storedAt = (path: ValuePath): unknown => path.reduce<unknown>((n, k) => ((isPlainObject(n) || Array.isArray(n)) && Object.hasOwn(n, k) ? (n as JsonObject)[k] : undefined), stored);
  return mapAtPaths(incoming, paths, (leaf, at) => (leaf === REDACTED ? storedAt(at) : leaf));
}

/** A copy of an object, mapping values; keys such as "__proto__" stay data. */
function withEntries(doc: JsonObject, fn: (k: string, v: unknown) => unknown): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(doc)) Object.defineProperty(out, k, { value: fn(k, v), enumerable: true, writable: true, configurable: true });
  return out;
}
