import { useState } from 'react';
import { BUSY_STATUSES } from '../api/types';
import { DeploymentTable } from '../components/deployment-table';
import { StatusOptions } from '../components/status-options';
import { Empty, ErrorBox, Loading, PageTitle, Pager } from '../components/common';
import { useConsole } from '../context';
import { loadCatalog, useLoad } from '../hooks';
import { href } from '../router';

const PAGE_SIZE = 25;
const POLL_MS = 2000;

export function DeploymentsPage({ userId }: { userId: string }) {
  const { api, session } = useConsole();
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const own = session.userId === userId;

  const list = useLoad(() => api.listDeployments(userId, { status: status || undefined, cursor, limit: PAGE_SIZE }), [userId, status, cursor], {
    pollMs: POLL_MS,
    poll: (page) => page.items.some((d) => BUSY_STATUSES.includes(d.status)),
  });
  const catalog = useLoad(() => loadCatalog(api), [api]);

  return (
    <>
      <div className="page-head">
        <PageTitle>{own ? 'My deployments' : 'Deployments of a user'}</PageTitle>
        <a className="button primary" href={href(own ? '/deployments/new' : `/users/${userId}/deployments/new`)}>
          New deployment
        </a>
      </div>
      <div className="toolbar">
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            setCursors([null]);
          }}
        >
          <StatusOptions />
        </select>
        {list.data?.items.some((d) => BUSY_STATUSES.includes(d.status)) && (
          <span className="muted small" role="status">
            Updating live while deployments are in progress
          </span>
        )}
      </div>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading what="deployments" />}
      {list.data && list.data.items.length === 0 && (
        <Empty>
          {status ? (
            <p>No deployment is {status}.</p>
          ) : (
            <p>
              No deployments yet. <a href={href(own ? '/deployments/new' : `/users/${userId}/deployments/new`)}>Create the first one</a>.
            </p>
          )}
        </Empty>
      )}
      {list.data && list.data.items.length > 0 && <DeploymentTable items={list.data.items} catalog={catalog.data} />}
      <Pager
        label="Deployments"
        hasPrev={cursors.length > 1}
        hasNext={!!list.data?.nextCursor}
        onPrev={() => setCursors((c) => c.slice(0, -1))}
        onNext={() => list.data?.nextCursor && setCursors((c) => [...c, list.data!.nextCursor])}
      />
    </>
  );
}
