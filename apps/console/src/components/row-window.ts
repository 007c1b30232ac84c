import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent, type RefObject } from 'react';

/** Rows `start` (included) to `end` (excluded) of a table. */
export interface RowRange {
  start: number;
  end: number;
}

/**
 * The rows of a table of `count` rows, each `rowHeight` px high, that a viewport `viewportHeight`
 * px high shows when the table's body starts `bodyTop` px below the viewport's top (negative once
 * the page is scrolled past it), and `overscan` rows either side.
 */
export function visibleRows(count: number, rowHeight: number, bodyTop: number, viewportHeight: number, overscan: number): RowRange {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, -bodyTop) / rowHeight);
  const last = Math.ceil(Math.max(0, viewportHeight - bodyTop) / rowHeight);
  const start = Math.min(count, Math.max(0, first - overscan));
  return { start, end: Math.max(start, Math.min(count, last + overscan)) };
}

/** A run of rows to render, or a gap of rows left out (rendered as one spacer of their height). */
export type RowSegment = { kind: 'rows'; start: number; end: number } | { kind: 'gap'; start: number; end: number };

/**
 * The visible range plus the row holding the keyboard focus (kept mounted so focus is not lost
 * when it scrolls away), as rows and gaps covering 0..count.
 */
export function rowSegments(count: number, range: RowRange, keep: number | null): RowSegment[] {
  const runs: RowRange[] = [];
  if (range.end > range.start) runs.push(range);
  if (keep !== null && keep >= 0 && keep < count && (keep < range.start || keep >= range.end)) runs.push({ start: keep, end: keep + 1 });
  runs.sort((a, b) => a.start - b.start);
  const out: RowSegment[] = [];
  let at = 0;
  for (const r of runs) {
    if (r.start > at) out.push({ kind: 'gap', start: at, end: r.start });
    out.push({ kind: 'rows', start: r.start, end: r.end });
    at = r.end;
  }
  if (at < count) out.push({ kind: 'gap', start: at, end: count });
  return out;
}

const OVERSCAN = 10;
/** Before the first row is measured (and in jsdom, which lays nothing out). */
const DEFAULT_ROW_PX = 44;

export interface RowWindow {
  segments: RowSegment[];
  rowHeight: number;
  /** For the table body: remember which row holds the focus, and forget it when focus leaves. */
  onFocus: (e: FocusEvent<HTMLElement>) => void;
  onBlur: (e: FocusEvent<HTMLElement>) => void;
}

/**
 * Windowing for a long table scrolled with the page: only the rows in (or near) the viewport are
 * in the DOM, the rest are spacers of the same height, so the table's size, the scroll bar and
 * positions are those of the whole table. Rows must all have the same height (the table's CSS
 * fixes it); it is measured from a rendered row. Rows carry `data-row` (their index).
 */
export function useRowWindow(bodyRef: RefObject<HTMLTableSectionElement | null>, count: number, enabled: boolean): RowWindow {
  const [rowHeight, setRowHeight] = useState(DEFAULT_ROW_PX);
  const [range, setRange] = useState<RowRange>(() => visibleRows(count, DEFAULT_ROW_PX, 0, typeof window === 'undefined' ? 800 : window.innerHeight, OVERSCAN));
  const [focused, setFocused] = useState<number | null>(null);
  const heightRef = useRef(rowHeight);
  heightRef.current = rowHeight;

  const update = useCallback(() => {
    const body = bodyRef.current;
    if (!body) return;
    const next = visibleRows(count, heightRef.current, body.getBoundingClientRect().top, window.innerHeight, OVERSCAN);
    setRange((r) => (r.start === next.start && r.end === next.end ? r : next));
  }, [bodyRef, count]);

  // Once rows are in the DOM: the real row height (fonts and zoom decide it), and the range for
  // the actual layout (the table's place on the page is only known now).
  useLayoutEffect(() => {
    if (!enabled) return;
    // The pitch of two rows next to each other (collapsed borders are shared), else one row's height.
    const [a, b] = bodyRef.current?.querySelectorAll<HTMLElement>('tr[data-row]') ?? [];
    const h = a && b && Number(b.dataset.row) === Number(a.dataset.row) + 1 ? b.getBoundingClientRect().top - a.getBoundingClientRect().top : (a?.getBoundingClientRect().height ?? 0);
    if (h > 0 && Math.abs(h - heightRef.current) > 0.5) {
      heightRef.current = h;
      setRowHeight(h);
    }
    update();
  }, [enabled, bodyRef, count, rowHeight, update]);

  useEffect(() => {
    if (!enabled) return;
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        update();
      });
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [enabled, update]);

  const onFocus = useCallback((e: FocusEvent<HTMLElement>) => {
    const row = e.target.closest<HTMLElement>('tr[data-row]');
    if (row) setFocused(Number(row.dataset.row));
  }, []);
  const onBlur = useCallback((e: FocusEvent<HTMLElement>) => {
    if (!(e.relatedTarget instanceof Node && e.currentTarget.contains(e.relatedTarget))) setFocused(null);
  }, []);

  const segments: RowSegment[] = enabled ? rowSegments(count, range, focused) : count > 0 ? [{ kind: 'rows', start: 0, end: count }] : [];
  return { segments, rowHeight, onFocus, onBlur };
}
