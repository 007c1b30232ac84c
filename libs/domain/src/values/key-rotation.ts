import { isPlainObject } from './json';
import { SecretBox } from './secret-box';

/**
 * Re-seals with the current key every leaf that a previous key sealed. Values stay the same;
 * only their envelopes change. Throws when a leaf was sealed with a key the box does not hold.
 */
export function resealAll(doc: unknown, box: SecretBox): { doc: unknown; resealed: number } {
  let resealed = 0;
  const visit = (node: unknown): unknown => {
    if (SecretBox.isSealed(node)) {
      if (!box.needsReseal(node)) return node;
      resealed += 1;
      return box.seal(box.open(node));
    }
    if (Array.isArray(node)) return node.map(visit);
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v)]));
    return node;
  };
  const out = visit(doc);
  return { doc: out, resealed };
}
