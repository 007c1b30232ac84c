import { isPlainObject, JsonObject } from './json';
import { REDACTED, SecretBox } from './secret-box';

/** A path into a values document; "*" matches every array element. */
export type ValuePath = string[];

export const SECRET_KEYWORD = 'x-caelus-secret';

/** Recursive schemas are followed this deep: user values nest at most 16 levels under `user`. */
const MAX_SECRET_PATH = 17;

/** The schema a local `$ref` ("#/definitions/x", "#/$defs/x") points at, if any. */
function resolveLocalRef(root: unknown, ref: string): unknown {
  const pointer = ref.slice(1);
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (isPlainObject(node) ? node[key] : undefined), root);
}

/**
 * Paths the schema marks `"x-caelus-secret": true`, following properties, items, combinators
 * and local `$ref`s (a secret declared once under definitions is still a secret).
 */
export function secretPaths(schema: unknown, prefix: ValuePath = [], root: unknown = schema, refsHere: ReadonlySet<string> = new Set()): ValuePath[] {
  if (!isPlainObject(schema)) return [];
  if (schema[SECRET_KEYWORD] === true) return [prefix];
  const out: ValuePath[] = [];
  const ref = schema.$ref;
  // refsHere breaks cycles of refs that do not descend; MAX_SECRET_PATH bounds recursive schemas.
  if (typeof ref === 'string' && ref.startsWith('#') && !refsHere.has(ref) && prefix.length <= MAX_SECRET_PATH) {
    out.push(...secretPaths(resolveLocalRef(root, ref), prefix, root, new Set([...refsHere, ref])));
  }
  if (isPlainObject(schema.properties)) {
    for (const [k, sub] of Object.entries(schema.properties)) out.push(...secretPaths(sub, [...prefix, k], root));
  }
  if (isPlainObject(schema.items)) out.push(...secretPaths(schema.items, [...prefix, '*'], root));
  for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[combinator];
    if (Array.isArray(list)) for (const sub of list) out.push(...secretPaths(sub, prefix, root, refsHere));
  }
  return out;
}

/** Secret paths inside the user's own values (the schema nests them under `user`). */
export function userSecretPaths(schema: unknown): ValuePath[] {
  return secretPaths(schema)
    .filter((p) => p[0] === 'user' && p.length > 1)
    .map((p) => p.slice(1));
}

/** Returns a copy with every leaf at `paths` replaced by fn(leaf). */
export function mapAtPaths(doc: JsonObject, paths: ValuePath[], fn: (leaf: unknown, path: string[]) => unknown): JsonObject {
  const copy = structuredClone(doc);
  const visit = (node: unknown, path: ValuePath, at: string[]): unknown => {
    if (path.length === 0) return fn(node, at);
    const [head, ...rest] = path;
    if (head === '*' && Array.isArray(node)) return node.map((el, i) => visit(el, rest, [...at, String(i)]));
    if (isPlainObject(node) && head in node) {
      node[head] = visit(node[head], rest, [...at, head]);
    }
    return node;
  };
  for (const p of paths) visit(copy, p, []);
  return copy;
}

export function redactSecrets(doc: JsonObject, paths: ValuePath[]): JsonObject {
  return mapAtPaths(doc, paths, (leaf) => (leaf === undefined ? leaf : REDACTED));
}

export function sealSecrets(doc: JsonObject, paths: ValuePath[], box: SecretBox): JsonObject {
  return mapAtPaths(doc, paths, (leaf) => (leaf === undefined || SecretBox.isSealed(leaf) ? leaf : box.seal(leaf)));
}

export function openSecrets(doc: JsonObject, paths: ValuePath[], box: SecretBox): JsonObject {
  return mapAtPaths(doc, paths, (leaf) => (SecretBox.isSealed(leaf) ? box.open(leaf) : leaf));
}

/** Every sealed leaf anywhere in the document (also ones the current schema no longer marks). */
export function openAllSealed(doc: unknown, box: SecretBox): unknown {
  if (SecretBox.isSealed(doc)) return box.open(doc);
  if (Array.isArray(doc)) return doc.map((d) => openAllSealed(d, box));
  if (isPlainObject(doc)) return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, openAllSealed(v, box)]));
  return doc;
}

/** The plain text of every sealed string leaf, for scrubbing it from output such as rendered manifests. */
export function sealedStrings(doc: unknown, box: SecretBox): string[] {
  if (SecretBox.isSealed(doc)) {
    const strings = (v: unknown): string[] =>
      typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : isPlainObject(v) ? Object.values(v).flatMap(strings) : [];
    return strings(box.open(doc));
  }
  if (Array.isArray(doc)) return doc.flatMap((d) => sealedStrings(d, box));
  if (isPlainObject(doc)) return Object.values(doc).flatMap((v) => sealedStrings(v, box));
  return [];
}

/** Replaces every sealed leaf with the redaction marker. */
export function redactAllSealed(doc: unknown): unknown {
  if (SecretBox.isSealed(doc)) return REDACTED;
  if (Array.isArray(doc)) return doc.map(redactAllSealed);
  if (isPlainObject(doc)) return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, redactAllSealed(v)]));
  return doc;
}

/**
 * A client that read redacted values and sends them back unchanged keeps the stored secret:
 * a leaf equal to the marker is replaced by what was stored at the same path.
 */
export function keepRedacted(incoming: JsonObject, stored: JsonObject, paths: ValuePath[]): JsonObject {
  const storedAt = (path: string[]): unknown => path.reduce<unknown>((n, k) => (isPlainObject(n) || Array.isArray(n) ? (n as JsonObject)[k] : undefined), stored);
  return mapAtPaths(incoming, paths, (leaf, at) => (leaf === REDACTED ? storedAt(at) : leaf));
}
