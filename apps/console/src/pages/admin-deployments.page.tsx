import { useEffect, useState } from 'react';
import { ApiClient } from '../api/api.client';
import { BUSY_STATUSES, type AllDeploymentsPage, type DeploymentCounts, type ListedDeployment } from '../api/types';
import { StatusOptions } from '../components/status-options';
import { Empty, ErrorBox, Loading, PageTitle } from '../components/common';
import { useConsole } from '../context';
import { prefetch, takePrefetched } from '../prefetch';
import { DeploymentTable } from '../components/deployment-table';

/** Rows the table holds at most: one request of the API's largest page. */
export const SHOWN = 1000;
const POLL_MS = 3000;

const PREFETCH_KEY = 'all-deployments';
const firstRead = { status: undefined, cursor: null, limit: SHOWN };

/**
 * Called at boot when the URL is this page and a token is kept: the table's request goes out
 * alongside GET /session instead of after it (the page is for admins; for anyone else the API
 * refuses it and the answer is never used).
 */
export function prefetchAllDeployments(token: string): void {
  prefetch(PREFETCH_KEY, token, () => new ApiClient({ token }).listAllDeployments(firstRead));
}

export interface AllDeploymentsState {
  items: ListedDeployment[];
  counts?: DeploymentCounts;
  error?: Error;
}

/**
 * Reads `GET /deployments`: the whole table (up to SHOWN rows, with the counts) in one request,
 * rendered once when it arrives. (A smaller first page read alongside it was tried: it answered
 * only just before the whole table, on the same API thread, and made the browser render twice.)
 * While a deployment is busy the table is read again every few seconds.
 */
export function useAllDeployments(api: ApiClient, status: string, tick = 0): AllDeploymentsState {
  const [state, setState] = useState<AllDeploymentsState>({ items: [] });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A new filter starts from an empty table (no render at all on the first load).
    setState((s) => (s.items.length === 0 && !s.counts && !s.error ? s : { items: [] }));
    const filter = { ...firstRead, status: status || undefined };
    const run = (first: boolean) => {
      const early = first && !status && tick === 0 ? takePrefetched<AllDeploymentsPage>(PREFETCH_KEY, api.token) : undefined;
      (early ?? api.listAllDeployments(filter)).then(
        (page) => {
          if (!live) return;
          setState({ items: page.items, counts: page.counts });
          if (page.items.some((d) => BUSY_STATUSES.includes(d.status))) timer = setTimeout(() => run(false), POLL_MS);
        },
        (err: Error & { status?: number }) => {
          if (!live) return;
          // A passing failure while polling (the API restarting) does not end live updates.
          const transient = (err.status ?? 0) === 0 || (err.status ?? 0) >= 500;
          if (!first && transient) timer = setTimeout(() => run(false), POLL_MS * 2);
          setState((s) => ({ ...s, error: err }));
        },
      );
    };
    run(true);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, status, tick]);
  return state;
}

/** Every user's deployments in one list (`GET /deployments`), with the API's counts. */
export function AdminDeploymentsPage() {
  const { api } = useConsole();
  const [status, setStatus] = useState('');
  const [tick, setTick] = useState(0);
  const all = useAllDeployments(api, status, tick);
  const total = all.counts?.total ?? 0;
  const loaded = all.counts !== undefined;

  return (
    <>
      <PageTitle>All deployments</PageTitle>
      <ErrorBox error={all.error} onRetry={() => setTick((t) => t + 1)} />
      {!loaded && !all.error && <Loading what="deployments of every user" />}
      {loaded && all.counts && (
        <div className="counts">
          <Counts title="By product" rows={all.counts.byProduct.map((c) => [c.productName ?? c.productId.slice(0, 8), c.count])} />
          <Counts title="By template version" rows={all.counts.byTemplate.map((c) => [`${c.productName ?? c.productId.slice(0, 8)} ${c.version ?? c.templateId.slice(0, 8)}`, c.count])} />
          <Counts title="By status" rows={all.counts.byStatus.map((c) => [c.status, c.count])} />
        </div>
      )}
      <div className="toolbar">
        <label htmlFor="all-status-filter">Status</label>
        <select id="all-status-filter" value={status} onChange={(e) => setStatus(e.target.value)}>
          <StatusOptions />
        </select>
        {loaded && (
          <span className="muted small" role="status">
            {total} deployment{total === 1 ? '' : 's'}
            {total > SHOWN ? `, the first ${SHOWN} shown` : ''}
          </span>
        )}
      </div>
      {loaded && total === 0 && <Empty>{status ? `No deployment is ${status}.` : 'No user has a deployment yet.'}</Empty>}
      {all.items.length > 0 && <DeploymentTable items={all.items} catalog={undefined} showOwner fixedLayout />}
    </>
  );
}

function Counts({ title, rows }: { title: string; rows: [string, number][] }) {
  const id = `counts-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section aria-labelledby={id} className="count-card">
      <h2 id={id}>{title}</h2>
      <table>
        <tbody>
          {rows.map(([k, n]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
