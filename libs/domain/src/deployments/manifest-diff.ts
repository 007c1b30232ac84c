import { parseAllDocuments, stringify } from 'yaml';
import { isPlainObject, JsonObject } from '../values';
import { unifiedDiff } from './line-diff';

export const MASKED = '[masked]';
export const MASKED_CHANGED = '[masked, changed]';
const SECRET_FIELDS = ['data', 'stringData'] as const;
/** Shorter strings are too likely to be ordinary words to scrub from every field. */
const MIN_SCRUB_LENGTH = 4;

export interface ManifestDiff {
  diff: string;
  /** Objects added, removed or changed, as `Kind/name` (`Kind/namespace/name` when namespaced). */
  changed: string[];
}

/** Objects of a multi-document manifest by `Kind/[namespace/]name`, in document order. */
export function parseManifest(text: string): Map<string, JsonObject> {
  const objects = new Map<string, JsonObject>();
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length) throw new Error(`the rendered manifest is not valid YAML (document ${i + 1}): ${doc.errors[0].message}`);
    const obj: unknown = doc.toJS();
    if (!isPlainObject(obj)) return;
    const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
    const base = [obj.kind ?? 'Object', meta.namespace, meta.name ?? `document-${i + 1}`].filter((p) => typeof p === 'string' && p !== '').join('/');
    let key = base;
    for (let n = 2; objects.has(key); n++) key = `${base}#${n}`;
    objects.set(key, obj);
  });
  return objects;
}

/**
 * Secret `data`/`stringData` values replaced by a mask. Compared with the other side's Secret
 * of the same name, a value that differs is masked as changed, so the diff still shows it moved.
 */
export function maskSecret(obj: JsonObject, before?: JsonObject): JsonObject {
  if (obj.kind !== 'Secret') return obj;
  const copy: JsonObject = { ...obj };
  for (const field of SECRET_FIELDS) {
    const values = obj[field];
    if (values === undefined || values === null) continue;
    if (!isPlainObject(values)) {
      copy[field] = MASKED;
      continue;
    }
    const old = before && before.kind === 'Secret' && isPlainObject(before[field]) ? before[field] : undefined;
    copy[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, old && k in old && old[k] !== v ? MASKED_CHANGED : MASKED]));
  }
  return copy;
}

/** Every string field with a known secret (or its base64 form) in it gets the secret replaced by the mask. */
export function scrubStrings(value: unknown, secrets: readonly string[]): unknown {
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SCRUB_LENGTH).flatMap((s) => [s, Buffer.from(s, 'utf8').toString('base64')]))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return needles.reduce((s, needle) => (s.includes(needle) ? s.split(needle).join(MASKED) : s), v);
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

const toYaml = (obj: JsonObject | undefined): string => (obj === undefined ? '' : stringify(obj, { lineWidth: 0 }));

/**
 * A unified diff of two rendered manifests, object by object (like `helm diff`), with Secret
 * data masked and the given secret strings scrubbed everywhere. `from: null` compares
 * against nothing: every object shows as added.
 */
export function diffManifests(input: { from: string | null; to: string; fromLabel: string; toLabel: string; secrets?: readonly string[] }): ManifestDiff {
  const secrets = input.secrets ?? [];
  const from = input.from === null ? new Map<string, JsonObject>() : parseManifest(input.from);
  const to = parseManifest(input.to);
  const keys = [...to.keys(), ...[...from.keys()].filter((k) => !to.has(k))];
  const parts: string[] = [];
  const changed: string[] = [];
  for (const key of keys) {
    const a = from.get(key);
    const b = to.get(key);
    const before = a && (scrubStrings(maskSecret(a), secrets) as JsonObject);
    const after = b && (scrubStrings(maskSecret(b, a), secrets) as JsonObject);
    const text = unifiedDiff(toYaml(before), toYaml(after), {
      from: a ? `${input.fromLabel}/${key}` : '/dev/null',
      to: b ? `${input.toLabel}/${key}` : '/dev/null',
    });
    if (!text) continue;
    parts.push(text);
    changed.push(key);
  }
  return { diff: parts.join(''), changed };
}
