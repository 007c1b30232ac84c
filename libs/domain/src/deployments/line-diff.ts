import { diffArrays, structuredPatch } from 'diff';

export type DiffOp = { kind: 'equal' | 'delete' | 'insert'; line: string };

/**
 * Past this many changed lines the texts are shown as replaced whole: the search for a shortest
 * edit script grows with its square, and such a diff is not read line by line anyway.
 */
const MAX_EDIT_LENGTH = 500;

/** Line edit script from `a` to `b` (jsdiff's Myers diff): a shortest one, deletions before insertions. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  const changes = diffArrays([...a], [...b], { maxEditLength: MAX_EDIT_LENGTH });
  if (!changes) return [...a.map((line): DiffOp => ({ kind: 'delete', line })), ...b.map((line): DiffOp => ({ kind: 'insert', line }))];
  return changes.flatMap((c) => c.value.map((line): DiffOp => ({ kind: c.added ? 'insert' : c.removed ? 'delete' : 'equal', line })));
}

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** `start,len` of a hunk range from its 1-based start; an empty range names the line before it, as diff -u does. */
function range(start: number, len: number): string {
  if (len === 0) return `${start - 1},0`;
  if (len === 1) return `${start}`;
  return `${start},${len}`;
}

/** A missing final newline is not a change here (it would add `\ No newline` lines). */
const withFinalNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);

/**
 * A unified diff (`diff -u` format, `context` lines around each change) of two texts, or ''
 * when they are equal. Labels go on the `---`/`+++` lines.
 */
export function unifiedDiff(a: string, b: string, labels: { from: string; to: string }, context = 3): string {
  const [from, to] = [withFinalNewline(a), withFinalNewline(b)];
  if (from === to) return '';
  const hunks = structuredPatch(labels.from, labels.to, from, to, undefined, undefined, { context, maxEditLength: MAX_EDIT_LENGTH })?.hunks ?? [replacedWhole(from, to)];
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const h of hunks) out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines);
  return `${out.join('\n')}\n`;
}

function replacedWhole(a: string, b: string) {
  const [removed, added] = [splitLines(a), splitLines(b)];
  return { oldStart: 1, oldLines: removed.length, newStart: 1, newLines: added.length, lines: [...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`)] };
}
