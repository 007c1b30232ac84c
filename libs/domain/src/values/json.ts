export type JsonObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else (arrays included) replaces. */
export function deepMerge(...layers: JsonObject[]): JsonObject {
  const out: JsonObject = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      const prev = Object.hasOwn(out, k) ? out[k] : undefined;
      const merged = isPlainObject(v) && isPlainObject(prev) ? deepMerge(prev, v) : structuredClone(v);
      // Defined, not assigned: a "__proto__" key from parsed JSON stays data instead of becoming the prototype.
      Object.defineProperty(out, k, { value: merged, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

/** Nesting depth of a JSON value (a scalar is 0). */
export function jsonDepth(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(jsonDepth));
  if (isPlainObject(v)) return 1 + Math.max(0, ...Object.values(v).map(jsonDepth));
  return 0;
}
