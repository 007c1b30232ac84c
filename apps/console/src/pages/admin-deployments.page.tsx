import { useMemo, useState } from 'react';
import { fetchAll } from '../api/api.client';
import { BUSY_STATUSES, DEPLOYMENT_STATUSES, type Deployment } from '../api/types';
import { Empty, ErrorBox, Loading, PageTitle } from '../components/common';
import { useConsole } from '../context';
import { loadCatalog, useLoad } from '../hooks';
import { DeploymentTable } from './deployments.page';

const SHOWN = 1000;
const LISTED = DEPLOYMENT_STATUSES.filter((s) => s !== 'deleted');

/** Every user's deployments (the API lists them per user), with counts. */
export function AdminDeploymentsPage() {
  const { api } = useConsole();
  const [status, setStatus] = useState('');
  const all = useLoad(
    async () => {
      const users = await fetchAll((c) => api.listUsers(c, 100));
      // One cursor chain per user and status, side by side: the unfiltered list (every status but
      // deleted) would be one long chain of pages, each waiting for the one before.
      const lists = await Promise.all(users.flatMap((u) => LISTED.map((status) => fetchAll((c) => api.listDeployments(u.id, { status, cursor: c, limit: 100 }), 100))));
      const deployments = lists.flat().sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      return { owners: new Map(users.map((u) => [u.id, u.email])), deployments };
    },
    [api],
    { pollMs: 3000, poll: (r) => r.deployments.some((d) => BUSY_STATUSES.includes(d.status)) },
  );
  const catalog = useLoad(() => loadCatalog(api), [api]);
  const shown = useMemo(() => (all.data?.deployments ?? []).filter((d) => !status || d.status === status), [all.data, status]);

  return (
    <>
      <PageTitle>All deployments</PageTitle>
      <ErrorBox error={all.error} onRetry={all.reload} />
      {!all.error && (!all.data || (!catalog.data && !catalog.error)) && <Loading what="deployments of every user" />}
      {all.data && all.data.deployments.length === 0 && <Empty>No user has a deployment yet.</Empty>}
      {/* Shown once the catalogue (product names, versions) is there too: a table of 1,000 rows is rendered once, not twice. */}
      {all.data && all.data.deployments.length > 0 && (catalog.data || catalog.error) && (
        <>
          <div className="counts">
            <Counts title="By product" rows={count(all.data.deployments, (d) => catalog.data?.productName(d.productId) ?? d.productId.slice(0, 8))} />
            <Counts
              title="By template version"
              rows={count(all.data.deployments, (d) => {
                const t = catalog.data?.template(d.desiredTemplateId);
                return t ? `${catalog.data!.productName(t.productId)} ${t.version}` : d.desiredTemplateId.slice(0, 8);
              })}
            />
            <Counts title="By status" rows={count(all.data.deployments, (d) => d.status)} />
          </div>
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
            <span className="muted small">
              {shown.length} deployment{shown.length === 1 ? '' : 's'}
              {shown.length > SHOWN ? `, the first ${SHOWN} shown` : ''}
            </span>
          </div>
          {shown.length === 0 ? <Empty>No deployment is {status}.</Empty> : <DeploymentTable items={shown.slice(0, SHOWN)} catalog={catalog.data} owners={all.data.owners} />}
        </>
      )}
    </>
  );
}

function count(items: Deployment[], key: (d: Deployment) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const d of items) m.set(key(d), (m.get(key(d)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
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
