import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/api.client';
import { BUSY_STATUSES, type DeploymentCounts, type ListedDeployment } from '../api/types';
import { StatusOptions } from '../components/status-options';
import { Empty, ErrorBox, Loading, PageTitle } from '../components/common';
import { useConsole } from '../context';
import { DeploymentTable } from './deployments.page';

/** Rows the table holds at most: one request of the API's largest page. */
export const SHOWN = 1000;
/** A small first page, read alongside the whole table and shown while the rest is on its way. */
export const FIRST_PAGE = 100;
const POLL_MS = 3000;

export interface AllDeploymentsState {
  items: ListedDeployment[];
  counts?: DeploymentCounts;
  /** False while only the first page is shown. */
  complete: boolean;
  error?: Error;
}

/**
 * Reads `GET /deployments`: the whole table (up to SHOWN rows) in one request and, on the first
 * read, a first page of FIRST_PAGE rows side by side with it, shown as soon as it arrives. The
 * whole table then replaces it in one render (every render of a growing table lays out all its
 * rows again). While a deployment is busy the table is read again every few seconds.
 */
export function useAllDeployments(api: ApiClient, status: string, tick = 0): AllDeploymentsState {
  const [state, setState] = useState<AllDeploymentsState>({ items: [], complete: false });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ items: [], complete: false });
    const filter = { status: status || undefined, cursor: null };
    const run = (first: boolean) => {
      let whole = false;
      if (first) {
        api.listAllDeployments({ ...filter, limit: FIRST_PAGE }).then(
          (page) => {
            if (live && !whole) setState({ items: page.items, counts: page.counts, complete: !page.nextCursor });
          },
          // The whole table's request reports the error.
          () => undefined,
        );
      }
      api.listAllDeployments({ ...filter, limit: SHOWN }).then(
        (page) => {
          whole = true;
          if (!live) return;
          setState({ items: page.items, counts: page.counts, complete: true });
          if (page.items.some((d) => BUSY_STATUSES.includes(d.status))) timer = setTimeout(() => run(false), POLL_MS);
        },
        (err: Error & { status?: number }) => {
          whole = true;
          if (!live) return;
          // A passing failure while polling (the API restarting) does not end live updates.
          const transient = (err.status ?? 0) === 0 || (err.status ?? 0) >= 500;
          if (!first && transient) timer = setTimeout(() => run(false), POLL_MS * 2);
          setState((s) => ({ ...s, complete: true, error: err }));
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
            {!all.complete ? `; loading ${all.items.length} of ${Math.min(total, SHOWN)}…` : ''}
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
