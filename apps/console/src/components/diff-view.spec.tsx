import { render, screen } from '@testing-library/react';
import { DiffView, parseUnifiedDiff } from './diff-view';

const DIFF = [
  '--- 1.0.0/ConfigMap/d-abc-config',
  '+++ 1.1.0/ConfigMap/d-abc-config',
  '@@ -1,3 +1,4 @@',
  ' data:',
  '+  motd: Welcome!',
  '   title: Before',
  '-  theme: dark',
  '--- 1.0.0/Secret/d-abc-secret',
  '+++ 1.1.0/Secret/d-abc-secret',
  '@@ -1 +1 @@',
  '-  adminPassword: "[masked]"',
  '+  adminPassword: "[masked, changed]"',
  '',
].join('\n');

describe(DiffView.name, () => {
  it('types every line of a unified diff', () => {
    const sut = parseUnifiedDiff(DIFF);
    expect(sut.map((l) => l.kind)).toEqual(['file', 'file', 'hunk', 'context', 'add', 'context', 'del', 'file', 'file', 'hunk', 'del', 'add']);
    expect(sut[4]).toEqual({ kind: 'add', text: '+  motd: Welcome!' });
  });

  it('renders additions and deletions with their own classes and counts them', () => {
    const { container } = render(<DiffView diff={DIFF} label="Changes" />);
    expect(container.querySelectorAll('.diff-add')).toHaveLength(2);
    expect(container.querySelectorAll('.diff-del')).toHaveLength(2);
    expect(container.querySelectorAll('.diff-file')).toHaveLength(4);
    expect(screen.getByText('2 added')).toBeTruthy();
    expect(screen.getByText('2 removed')).toBeTruthy();
    // The text stays a valid diff (prefixes kept) for copying and for screen readers.
    expect(container.querySelector('pre')!.textContent).toBe(DIFF);
    expect(container.querySelector('pre')!.textContent).toContain('[masked]');
  });

  it('says so when nothing changes', () => {
    render(<DiffView diff="" />);
    expect(screen.getByText('No manifest changes.')).toBeTruthy();
  });
});
