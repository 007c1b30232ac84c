import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/api.client';
import { BUSY_STATUSES, DEPLOYMENT_STATUSES, type DeploymentCounts, type ListedDeployment } from '../api/types';
import { Empty, ErrorBox, Loading, PageTitle } from '../components/common';
import { useConsole } from '../context';
import { DeploymentTable } from './deployments.page';

/** Rows the table holds at most. */
export const SHOWN = 1000;
/** The first page is small so the table shows at once; the rest come in the API's largest pages. */
export const FIRST_PAGE = 100;
export const NEXT_PAGE = 500;
const POLL_MS = 3000;

export interface AllDeploymentsState {
  items: ListedDeployment[];
  counts?: DeploymentCounts;
  /** False while more pages are coming. */
  complete: boolean;
  error?: Error;
}

/**
 * Reads `GET /deployments` page by page up to SHOWN rows. On the first read the first page is
 * shown as soon as it arrives and the rest once read; while a deployment is busy the list is
 * read again every few seconds and replaced once complete, so the table never shrinks back to
 * its first page.
 */
export function useAllDeployments(api: ApiClient, status: string, tick = 0): AllDeploymentsState {
  const [state, setState] = useState<AllDeploymentsState>({ items: [], complete: false });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ items: [], complete: false });
    const run = async (first: boolean) => {
      const items: ListedDeployment[] = [];
      let counts: DeploymentCounts | undefined;
      let cursor: string | null = null;
      try {
        do {
          const limit = Math.min(items.length === 0 ? FIRST_PAGE : NEXT_PAGE, SHOWN - items.length);
          const page = await api.listAllDeployments({ status: status || undefined, cursor, limit });
          if (!live) return;
          items.push(...page.items);
          counts = page.counts;
          cursor = page.nextCursor;
          const complete = !cursor || items.length >= SHOWN;
          // The first page at once, then the rest in one go: every render of a growing table is
          // a layout of all its rows, which costs more than the wait for the last page.
          if ((first && items.length === page.items.length) || complete) setState({ items: [...items], counts, complete });
        } while (cursor && items.length < SHOWN);
        if (items.some((d) => BUSY_STATUSES.includes(d.status))) timer = setTimeout(() => void run(false), POLL_MS);
      } catch (err) {
        if (!live) return;
        const error = err as Error & { status?: number };
        // A passing failure while polling (the API restarting) does not end live updates.
        const transient = (error.status ?? 0) === 0 || (error.status ?? 0) >= 500;
        if (!first && transient) timer = setTimeout(() => void run(false), POLL_MS * 2);
        setState((s) => ({ ...s, complete: true, error }));
      }
    };
    void run(true);
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
          <option value="">All</option>
          {DEPLOYMENT_STATUSES.filter((s) => s !== 'deleted').map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
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
