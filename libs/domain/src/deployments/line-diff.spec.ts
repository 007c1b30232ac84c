import { diffLines, splitLines, unifiedDiff } from './line-diff';

const labels = { from: 'a', to: 'b' };
const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);
const text = (ls: string[]) => `${ls.join('\n')}\n`;

describe('line diff', () => {
  describe(diffLines.name, () => {
    it('keeps a longest common subsequence and deletes before inserting', () => {
      expect(diffLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e'])).toEqual([
        { kind: 'equal', line: 'a' },
        { kind: 'delete', line: 'b' },
        { kind: 'insert', line: 'x' },
        { kind: 'equal', line: 'c' },
        { kind: 'equal', line: 'd' },
        { kind: 'insert', line: 'e' },
      ]);
    });

    it('replays to both sides', () => {
      const a = ['k: 1', 'x', 'y', 'k: 1', 'z', 'x'];
      const b = ['x', 'k: 2', 'y', 'z', 'k: 1', 'x', 'w'];
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.kind !== 'insert').map((o) => o.line)).toEqual(a);
      expect(ops.filter((o) => o.kind !== 'delete').map((o) => o.line)).toEqual(b);
      expect(ops.filter((o) => o.kind === 'equal')).toHaveLength(4);
    });

    it('handles empty sides', () => {
      expect(diffLines([], ['a'])).toEqual([{ kind: 'insert', line: 'a' }]);
      expect(diffLines(['a'], [])).toEqual([{ kind: 'delete', line: 'a' }]);
      expect(diffLines([], [])).toEqual([]);
    });
  });

  it('splits text without a phantom last line', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\nb')).toEqual(['a', 'b']);
  });

  describe(unifiedDiff.name, () => {
    it('is empty for equal texts', () => {
      expect(unifiedDiff('a\nb\n', 'a\nb\n', labels)).toBe('');
    });

    it('prints one hunk with three lines of context, in diff -u format', () => {
      const a = lines(10);
      const b = [...a];
      b[4] = 'changed 5';
      expect(unifiedDiff(text(a), text(b), labels)).toBe(
        ['--- a', '+++ b', '@@ -2,7 +2,7 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+changed 5', ' line 6', ' line 7', ' line 8', ''].join('\n'),
      );
    });

    it('splits distant changes into hunks and merges close ones', () => {
      const a = lines(30);
      const far = [...a];
      far[1] = 'x';
      far[25] = 'y';
      expect(unifiedDiff(text(a), text(far), labels).match(/^@@ /gm)).toHaveLength(2);
      const near = [...a];
      near[1] = 'x';
      near[7] = 'y';
      expect(unifiedDiff(text(a), text(near), labels).match(/^@@ /gm)).toHaveLength(1);
    });

    it('names the line before an empty range, as diff -u does', () => {
      expect(unifiedDiff('', 'a\nb\n', labels)).toBe('--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n');
      expect(unifiedDiff('a\n', '', labels)).toBe('--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n');
      expect(unifiedDiff('a\nb\n', 'a\nb\nc\n', labels)).toBe('--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n');
    });

    it('replaces a huge middle whole instead of building a huge table', () => {
      const a = lines(3000, 'a');
      const b = lines(3000, 'b');
      const out = unifiedDiff(text(a), text(b), labels, 0);
      expect(out.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toHaveLength(3000);
    });
  });
});
