import { FieldProblem } from '../errors';
import { isPlainObject } from './json';
import { ENCRYPTED_KEY } from './secret-box';
import { toPointer } from './secret-paths';

/**
 * Client documents (values, template defaults, schemas) must not carry the envelope key: only
 * the server seals, and an envelope a client made up, or copied from somewhere, would otherwise
 * be stored as if it were one (and fail, or open, later). One problem per occurrence, named by
 * `field` + the JSON pointer of the object holding it.
 */
export function reservedKeyProblems(doc: unknown, field: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const visit = (node: unknown, path: string[]): void => {
    if (Array.isArray(node)) node.forEach((v, i) => visit(v, [...path, String(i)]));
    else if (isPlainObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === ENCRYPTED_KEY) problems.push({ field: `${field}${toPointer([...path, k])}`, message: `"${ENCRYPTED_KEY}" is reserved for values the server encrypts; send the plain value` });
        else visit(v, [...path, k]);
      }
    }
  };
  visit(doc, []);
  return problems;
}
