import { rowSegments, visibleRows } from './row-window';

describe(visibleRows.name, () => {
  it('shows the rows under the viewport from the top of the table, plus the overscan below', () => {
    // Table body 100 px below the top, 40 px rows, a 500 px viewport: rows 0..10 show (400 px).
    expect(visibleRows(1000, 40, 100, 500, 5)).toEqual({ start: 0, end: 15 });
  });

  it('follows the page scrolled past the top of the table, with overscan either side', () => {
    // Scrolled 4,000 px into the body: rows 100..112.5 show.
    expect(visibleRows(1000, 40, -4000, 500, 5)).toEqual({ start: 95, end: 118 });
  });

  it('stops at the table ends and is empty for an empty table or a table below the viewport', () => {
    expect(visibleRows(1000, 40, -39_900, 500, 5)).toEqual({ start: 992, end: 1000 });
    expect(visibleRows(0, 40, 0, 500, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRows(1000, 40, 900, 500, 5)).toEqual({ start: 0, end: 5 });
  });
});

describe(rowSegments.name, () => {
  it('covers the whole table: gaps around the visible rows', () => {
    expect(rowSegments(1000, { start: 95, end: 118 }, null)).toEqual([
      { kind: 'gap', start: 0, end: 95 },
      { kind: 'rows', start: 95, end: 118 },
      { kind: 'gap', start: 118, end: 1000 },
    ]);
    expect(rowSegments(20, { start: 0, end: 20 }, null)).toEqual([{ kind: 'rows', start: 0, end: 20 }]);
  });

  it('keeps the focused row outside the visible rows, on either side', () => {
    expect(rowSegments(1000, { start: 95, end: 118 }, 3)).toEqual([
      { kind: 'gap', start: 0, end: 3 },
      { kind: 'rows', start: 3, end: 4 },
      { kind: 'gap', start: 4, end: 95 },
      { kind: 'rows', start: 95, end: 118 },
      { kind: 'gap', start: 118, end: 1000 },
    ]);
    expect(rowSegments(1000, { start: 0, end: 20 }, 999)).toEqual([
      { kind: 'rows', start: 0, end: 20 },
      { kind: 'gap', start: 20, end: 999 },
      { kind: 'rows', start: 999, end: 1000 },
    ]);
    // Inside the visible rows, or gone from a shorter table: nothing extra.
    expect(rowSegments(1000, { start: 0, end: 20 }, 5)).toEqual([
      { kind: 'rows', start: 0, end: 20 },
      { kind: 'gap', start: 20, end: 1000 },
    ]);
    expect(rowSegments(10, { start: 0, end: 10 }, 50)).toEqual([{ kind: 'rows', start: 0, end: 10 }]);
  });
});
