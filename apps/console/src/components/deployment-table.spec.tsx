import { act, fireEvent, render } from '@testing-library/react';
import type { ListedDeployment } from '../api/types';
import { DeploymentTable, WINDOW_FROM } from './deployment-table';

function row(i: number): ListedDeployment {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    deploymentUid: `d${i}`,
    userId: 'u1',
    productId: 'p1',
    status: 'ready',
    desiredTemplateId: 't1',
    appliedTemplateId: 't1',
    generation: 1,
    observedGeneration: 1,
    lastError: null,
    domainName: `app${i}.example.com`,
    values: {},
    drift: null,
    lastReconcileAt: null,
    lastDriftCheckAt: null,
    workflow: { id: `w${i}`, uiUrl: '' },
    createdAt: '2026-11-30T00:00:00.000Z',
    updatedAt: '2026-11-30T00:00:00.000Z',
    deletedAt: null,
    ownerEmail: 'ada@example.com',
    productName: 'webapp',
    desiredTemplateVersion: '1.0.0',
    appliedTemplateVersion: '1.0.0',
  };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => row(i));
const dataRows = () => [...document.querySelectorAll<HTMLElement>('table.deployments tbody tr[data-row]')].map((r) => Number(r.dataset.row));
const spacers = () => [...document.querySelectorAll<HTMLElement>('table.deployments tbody tr.spacer td')].map((td) => td.style.height);

/** jsdom lays nothing out: the table body's top (as the page scrolls) and row heights are set here. */
function layout(bodyTop: number, rowPx = 40) {
  jest.spyOn(HTMLTableSectionElement.prototype, 'getBoundingClientRect').mockImplementation(() => ({ top: bodyTop }) as DOMRect);
  jest.spyOn(HTMLTableRowElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLTableRowElement) {
    return { top: bodyTop + Number(this.dataset.row) * rowPx, height: rowPx } as DOMRect;
  });
}

async function scrollTo(bodyTop: number) {
  layout(bodyTop);
  await act(async () => {
    fireEvent.scroll(window);
    await new Promise((r) => requestAnimationFrame(() => r(undefined)));
  });
}

describe(DeploymentTable.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('keeps every row of a shorter table in the DOM', () => {
    render(<DeploymentTable items={items(WINDOW_FROM - 1)} catalog={undefined} showOwner fixedLayout />);
    expect(dataRows()).toHaveLength(WINDOW_FROM - 1);
    expect(spacers()).toEqual([]);
    expect(document.querySelector('table')!.getAttribute('aria-rowcount')).toBe(String(WINDOW_FROM));
  });

  it('renders the rows near the viewport of a long table, and the others as spacers of their height', async () => {
    layout(100);
    render(<DeploymentTable items={items(1000)} catalog={undefined} showOwner fixedLayout />);
    const table = document.querySelector('table')!;
    expect(table.getAttribute('aria-rowcount')).toBe('1001');
    // jsdom's viewport is 768 px: rows 0..17 under a body 100 px down, plus 10 of overscan.
    expect(dataRows()).toEqual(Array.from({ length: 27 }, (_, i) => i));
    expect(spacers()).toEqual([`${(1000 - 27) * 40}px`]);

    await scrollTo(-20_000);
    const shown = dataRows();
    expect(shown[0]).toBe(490);
    expect(shown.at(-1)).toBe(529);
    expect(document.querySelector(`tr[data-row="500"]`)!.getAttribute('aria-rowindex')).toBe('502');
    expect(document.querySelector(`tr[data-row="500"] a`)!.textContent).toBe('app500.example.com');
    expect(spacers()).toEqual([`${490 * 40}px`, `${(1000 - 530) * 40}px`]);
  });

  it('keeps the row holding the keyboard focus when it scrolls out of view', async () => {
    layout(0);
    render(<DeploymentTable items={items(1000)} catalog={undefined} showOwner fixedLayout />);
    const link = document.querySelector<HTMLAnchorElement>('tr[data-row="3"] a')!;
    act(() => link.focus());
    await scrollTo(-20_000);
    expect(dataRows()).toContain(3);
    expect(document.activeElement).toBe(link);
    expect(spacers()).toHaveLength(3);
    // Once focus leaves the table, the row goes with the others.
    act(() => link.blur());
    expect(dataRows()).not.toContain(3);
  });
});
