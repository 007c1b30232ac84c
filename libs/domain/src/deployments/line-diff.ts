export type DiffOp = { kind: 'equal' | 'delete' | 'insert'; line: string };

/** Above this many LCS cells (n × m lines after trimming), the middle is shown as replaced whole. */
const MAX_LCS_CELLS = 4_000_000;

/**
 * Line edit script from `a` to `b`: common prefix and suffix trimmed, then a longest common
 * subsequence on what is left. Manifests are diffed object by object, so the inputs stay small.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const equal = (line: string): DiffOp => ({ kind: 'equal', line });
  return [...a.slice(0, start).map(equal), ...lcsOps(a.slice(start, endA), b.slice(start, endB)), ...a.slice(endA).map(equal)];
}

function lcsOps(a: readonly string[], b: readonly string[]): DiffOp[] {
  const del = (line: string): DiffOp => ({ kind: 'delete', line });
  const ins = (line: string): DiffOp => ({ kind: 'insert', line });
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || n * m > MAX_LCS_CELLS) return [...a.map(del), ...b.map(ins)];
  const w = m + 1;
  // lcs[i * w + j]: length of the LCS of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const ops: DiffOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: 'equal', line: a[i] });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
      // Deletions before insertions, as diff(1) and git print them.
      ops.push(del(a[i++]));
    } else {
      ops.push(ins(b[j++]));
    }
  }
  while (i < n) ops.push(del(a[i++]));
  while (j < m) ops.push(ins(b[j++]));
  return ops;
}

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** `start,len` of a hunk range (1-based); an empty range names the line before it, as diff -u does. */
function range(start: number, len: number): string {
  if (len === 0) return `${start},0`;
  if (len === 1) return `${start + 1}`;
  return `${start + 1},${len}`;
}

/**
 * A unified diff (`diff -u` format, `context` lines around each change) of two texts, or ''
 * when they are equal. Labels go on the `---`/`+++` lines.
 */
export function unifiedDiff(a: string, b: string, labels: { from: string; to: string }, context = 3): string {
  if (a === b) return '';
  const rows: (DiffOp & { a: number; b: number })[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of diffLines(splitLines(a), splitLines(b))) {
    rows.push({ ...op, a: ai, b: bi });
    if (op.kind !== 'insert') ai++;
    if (op.kind !== 'delete') bi++;
  }
  const changes = rows.flatMap((r, i) => (r.kind === 'equal' ? [] : [i]));
  if (changes.length === 0) return '';

  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let g = 0;
  while (g < changes.length) {
    // Changes closer than two contexts apart share a hunk.
    let last = g;
    while (last + 1 < changes.length && changes[last + 1] - changes[last] - 1 <= 2 * context) last++;
    const start = Math.max(0, changes[g] - context);
    const end = Math.min(rows.length, changes[last] + context + 1);
    const hunk = rows.slice(start, end);
    const aLen = hunk.filter((r) => r.kind !== 'insert').length;
    const bLen = hunk.filter((r) => r.kind !== 'delete').length;
    out.push(`@@ -${range(rows[start].a, aLen)} +${range(rows[start].b, bLen)} @@`);
    for (const r of hunk) out.push(`${r.kind === 'equal' ? ' ' : r.kind === 'delete' ? '-' : '+'}${r.line}`);
    g = last + 1;
  }
  return `${out.join('\n')}\n`;
}
