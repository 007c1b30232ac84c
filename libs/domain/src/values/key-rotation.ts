import { isPlainObject } from './json';
import { SecretBox } from './secret-box';
import { SecretOwner, toPointer } from './secret-paths';

/**
 * Re-seals with the current key, bound to its owner and path, every leaf that a previous key
 * sealed or that was sealed before envelopes were bound (v1). Values stay the same; only their
 * envelopes change. Throws when a leaf was sealed with a key the box does not hold, or does not
 * open where it is (copied from another row or field).
 */
export function resealAll(doc: unknown, box: SecretBox, owner: SecretOwner): { doc: unknown; resealed: number } {
  let resealed = 0;
  const visit = (node: unknown, path: string[]): unknown => {
    if (SecretBox.isSealed(node)) {
      if (!box.needsReseal(node)) return node;
      const binding = { ...owner, path: toPointer(path) };
      resealed += 1;
      return box.seal(box.open(node, binding, { allowUnbound: true }), binding);
    }
    if (Array.isArray(node)) return node.map((v, i) => visit(v, [...path, String(i)]));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) Object.defineProperty(out, k, { value: visit(v, [...path, k]), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return node;
  };
  const out = visit(doc, []);
  return { doc: out, resealed };
}
