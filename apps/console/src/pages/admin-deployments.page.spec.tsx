import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { ApiClient } from '../api/api.client';
import type { AllDeploymentsPage, ListedDeployment } from '../api/types';
import { Ctx } from '../context';
import { AdminDeploymentsPage, FIRST_PAGE, SHOWN } from './admin-deployments.page';

function row(i: number, status: ListedDeployment['status'] = 'ready'): ListedDeployment {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    id,
    deploymentUid: `d${i}`,
    userId: 'u1',
    productId: 'p1',
    status,
    desiredTemplateId: 't2',
    appliedTemplateId: 't1',
    generation: 2,
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
    desiredTemplateVersion: '1.1.0',
    appliedTemplateVersion: '1.0.0',
  };
}

const COUNTS: AllDeploymentsPage['counts'] = {
  total: 120,
  byStatus: [{ status: 'ready', count: 120 }],
  byProduct: [{ productId: 'p1', productName: 'webapp', count: 120 }],
  byTemplate: [{ templateId: 't2', productId: 'p1', productName: 'webapp', version: '1.1.0', count: 120 }],
};

/** An API whose list answers wait until the test answers the request of a given page size. */
function fakeApi() {
  const calls: Parameters<ApiClient['listAllDeployments']>[0][] = [];
  const pending = new Map<number, (page: AllDeploymentsPage) => void>();
  const api = {
    listAllDeployments: (q: Parameters<ApiClient['listAllDeployments']>[0]) => {
      calls.push(q);
      return new Promise<AllDeploymentsPage>((resolve) => pending.set(q!.limit!, resolve));
    },
  } as unknown as ApiClient;
  const answer = async (limit: number, page: AllDeploymentsPage) => {
    await act(async () => pending.get(limit)!(page));
  };
  return { api, calls, answer };
}

function renderSut(api: ApiClient) {
  return render(
    <Ctx.Provider value={{ api, session: { userId: null, email: null, isAdmin: true } }}>
      <AdminDeploymentsPage />
    </Ctx.Provider>,
  );
}

const rowsShown = () => document.querySelectorAll('table.deployments tbody tr').length;
// Plain DOM queries: role queries over a table of 120 rows are slow in jsdom.
const statusText = () => document.querySelector('[role="status"]')?.textContent;

describe(AdminDeploymentsPage.name, () => {
  it('shows the first page as soon as it arrives, then the whole table from the request made alongside it', async () => {
    const { api, calls, answer } = fakeApi();
    renderSut(api);
    expect(screen.getByText(/Loading deployments of every user/)).toBeTruthy();
    expect(calls).toEqual([
      { status: undefined, cursor: null, limit: FIRST_PAGE },
      { status: undefined, cursor: null, limit: SHOWN },
    ]);

    await answer(FIRST_PAGE, { items: Array.from({ length: FIRST_PAGE }, (_, i) => row(i)), nextCursor: 'c1', counts: COUNTS });
    expect(rowsShown()).toBe(FIRST_PAGE);
    expect(statusText()).toContain(`120 deployments; loading ${FIRST_PAGE} of 120`);
    // Names come with the rows: owner, product, versions (applied shown when it differs).
    const first = within(document.querySelector('table.deployments tbody tr') as HTMLElement);
    expect(first.getByText('ada@example.com')).toBeTruthy();
    expect(first.getByText('webapp')).toBeTruthy();
    expect(first.getByText('(applied 1.0.0)')).toBeTruthy();
    expect(within(document.getElementById('counts-by-template-version')!.parentElement!).getByText('webapp 1.1.0')).toBeTruthy();

    await answer(SHOWN, { items: Array.from({ length: 120 }, (_, i) => row(i)), nextCursor: null, counts: COUNTS });
    expect(rowsShown()).toBe(120);
    expect(statusText()).toBe('120 deployments');
    expect(calls).toHaveLength(2);
  });

  it('keeps the whole table when the first page answers after it', async () => {
    const { api, answer } = fakeApi();
    renderSut(api);
    await answer(SHOWN, { items: Array.from({ length: 120 }, (_, i) => row(i)), nextCursor: null, counts: COUNTS });
    await answer(FIRST_PAGE, { items: Array.from({ length: FIRST_PAGE }, (_, i) => row(i)), nextCursor: 'c1', counts: COUNTS });
    expect(rowsShown()).toBe(120);
  });

  it('filters by status on the server and shows the empty state', async () => {
    const { api, calls, answer } = fakeApi();
    renderSut(api);
    await answer(SHOWN, { items: [row(1)], nextCursor: null, counts: { ...COUNTS, total: 1 } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'error' } });
    await answer(SHOWN, { items: [], nextCursor: null, counts: { total: 0, byStatus: [], byProduct: [], byTemplate: [] } });
    expect(calls.slice(2)).toEqual([
      { status: 'error', cursor: null, limit: FIRST_PAGE },
      { status: 'error', cursor: null, limit: SHOWN },
    ]);
    expect(screen.getByText('No deployment is error.')).toBeTruthy();
    expect(rowsShown()).toBe(0);
  });

  it('shows the API error with a retry', async () => {
    let down = true;
    const api = {
      listAllDeployments: async () => {
        if (down) throw Object.assign(new Error('boom'), { status: 500 });
        return { items: [row(1)], nextCursor: null, counts: { ...COUNTS, total: 1 } };
      },
    } as unknown as ApiClient;
    renderSut(api);
    await act(async () => undefined);
    expect(screen.getByRole('alert').textContent).toContain('boom');
    expect(rowsShown()).toBe(0);
    down = false;
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Try again' })));
    expect(rowsShown()).toBe(1);
  });
});
