export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'context';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

/** Splits a unified diff into typed lines (file headers, hunks, additions, deletions). */
export function parseUnifiedDiff(diff: string): DiffLine[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  return lines
    .filter((l, i) => !(l === '' && i === lines.length - 1))
    .map((text) => {
      if (text.startsWith('--- ') || text.startsWith('+++ ')) return { kind: 'file', text };
      if (text.startsWith('@@')) return { kind: 'hunk', text };
      if (text.startsWith('+')) return { kind: 'add', text };
      if (text.startsWith('-')) return { kind: 'del', text };
      return { kind: 'context', text };
    });
}

/** The manifest diff of an upgrade preview; Secret data arrives masked from the API. */
export function DiffView({ diff, label = 'Manifest changes' }: { diff: string; label?: string }) {
  if (!diff.trim()) return <p className="empty">No manifest changes.</p>;
  const lines = parseUnifiedDiff(diff);
  const added = lines.filter((l) => l.kind === 'add').length;
  const removed = lines.filter((l) => l.kind === 'del').length;
  return (
    <figure className="diff">
      <figcaption>
        {label}: <span className="diff-add-count">{added} added</span>, <span className="diff-del-count">{removed} removed</span>
      </figcaption>
      <pre tabIndex={0} aria-label={label}>
        {lines.map((l, i) => (
          <span key={i} className={`diff-line diff-${l.kind}`}>
            {l.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </figure>
  );
}
