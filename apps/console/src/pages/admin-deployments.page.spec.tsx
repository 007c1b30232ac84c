import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { ApiClient } from '../api/api.client';
import type { AllDeploymentsPage, ListedDeployment } from '../api/types';
import { Ctx } from '../context';
import { AdminDeploymentsPage, prefetchAllDeployments, SHOWN } from './admin-deployments.page';

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
    token: 'admin-token',
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
  it('reads the whole table in one request and shows it in one render, with names and counts', async () => {
    const { api, calls, answer } = fakeApi();
    renderSut(api);
    expect(screen.getByText(/Loading deployments of every user/)).toBeTruthy();
    expect(calls).toEqual([{ status: undefined, cursor: null, limit: SHOWN }]);
    expect(rowsShown()).toBe(0);

    await answer(SHOWN, { items: Array.from({ length: 120 }, (_, i) => row(i)), nextCursor: null, counts: COUNTS });
    expect(rowsShown()).toBe(120);
    expect(statusText()).toBe('120 deployments');
    // Names come with the rows: owner, product, versions (applied shown when it differs).
    const first = within(document.querySelector('table.deployments tbody tr') as HTMLElement);
    expect(first.getByText('ada@example.com')).toBeTruthy();
    expect(first.getByText('webapp')).toBeTruthy();
    expect(first.getByText('(applied 1.0.0)')).toBeTruthy();
    expect(within(document.getElementById('counts-by-template-version')!.parentElement!).getByText('webapp 1.1.0')).toBeTruthy();
    expect(calls).toHaveLength(1);
  });

  it('holds all 1,000 deployments in the table with only the rows near the viewport in the DOM', async () => {
    const { api, answer } = fakeApi();
    renderSut(api);
    await answer(SHOWN, { items: Array.from({ length: SHOWN }, (_, i) => row(i)), nextCursor: null, counts: { ...COUNTS, total: SHOWN } });
    const table = document.querySelector('table.deployments')!;
    expect(table.getAttribute('aria-rowcount')).toBe(String(SHOWN + 1));
    expect(statusText()).toBe(`${SHOWN} deployments`);
    const rendered = document.querySelectorAll('table.deployments tbody tr[data-row]');
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(100);
    expect(rendered[0].getAttribute('aria-rowindex')).toBe('2');
    // The rest of the table is a spacer of their height, hidden from assistive technology.
    expect(document.querySelector('table.deployments tbody tr.spacer')?.getAttribute('aria-hidden')).toBe('true');
  });

  it('filters by status on the server and shows the empty state', async () => {
    const { api, calls, answer } = fakeApi();
    renderSut(api);
    await answer(SHOWN, { items: [row(1)], nextCursor: null, counts: { ...COUNTS, total: 1 } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'error' } });
    await answer(SHOWN, { items: [], nextCursor: null, counts: { total: 0, byStatus: [], byProduct: [], byTemplate: [] } });
    expect(calls.slice(1)).toEqual([{ status: 'error', cursor: null, limit: SHOWN }]);
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

  it('takes the answer of the request started at boot with the same token instead of asking again', async () => {
    const page: AllDeploymentsPage = { items: [row(1), row(2)], nextCursor: null, counts: { ...COUNTS, total: 2 } };
    const fetchFn = jest.fn(async () => ({ status: 200, ok: true, text: async () => JSON.stringify(page) }));
    const saved = globalThis.fetch;
    globalThis.fetch = fetchFn as unknown as typeof fetch;
    try {
      prefetchAllDeployments('admin-token');
      expect(fetchFn).toHaveBeenCalledWith('/deployments?limit=1000', expect.objectContaining({ method: 'GET' }));
      const { api, calls } = fakeApi();
      renderSut(api);
      await act(async () => undefined);
      expect(calls).toEqual([]);
      expect(rowsShown()).toBe(2);

      // Made with another token (someone else signed in since): not used.
      prefetchAllDeployments('someone-else');
      const other = fakeApi();
      document.body.innerHTML = '';
      renderSut(other.api);
      expect(other.calls).toEqual([{ status: undefined, cursor: null, limit: SHOWN }]);
    } finally {
      globalThis.fetch = saved;
    }
  });
});
