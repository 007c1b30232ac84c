import { useState } from 'react';
import { BUSY_STATUSES, type Deployment, type ListedDeployment } from '../api/types';
import { StatusOptions } from '../components/status-options';
import { Empty, ErrorBox, formatTime, Loading, PageTitle, Pager } from '../components/common';
import { StatusBadge } from '../components/status-badge';
import { useConsole } from '../context';
import { loadCatalog, useLoad, type Catalog } from '../hooks';
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

/**
 * A user's list names products and versions from the catalogue; the admin list's rows carry
 * their names (and owner) from the API, so it needs no catalogue.
 */
export function DeploymentTable({
  items,
  catalog,
  showOwner = false,
  fixedLayout = false,
}: {
  items: (Deployment | ListedDeployment)[];
  catalog: Catalog | undefined;
  showOwner?: boolean;
  /** Column widths set in advance (CSS table-layout: fixed): a long table is laid out without measuring every cell. */
  fixedLayout?: boolean;
}) {
  return (
    <div className="table-wrap" role="region" aria-label="Deployments" tabIndex={0}>
      <table className={fixedLayout ? 'deployments fixed' : 'deployments'}>
        {fixedLayout && (
          <colgroup>
            <col className="col-domain" />
            {showOwner && <col className="col-owner" />}
            <col className="col-product" />
            <col className="col-template" />
            <col className="col-status" />
            <col className="col-generation" />
            <col className="col-error" />
            <col className="col-drift" />
          </colgroup>
        )}
        <thead>
          <tr>
            <th scope="col">Domain name</th>
            {showOwner && <th scope="col">Owner</th>}
            <th scope="col">Product</th>
            <th scope="col">Template</th>
            <th scope="col">Status</th>
            <th scope="col" title="applied / desired">
              Generation
            </th>
            <th scope="col">Last error</th>
            <th scope="col">Last drift check</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => {
            const listed = 'productName' in d ? d : undefined;
            const productName = listed ? (listed.productName ?? d.productId.slice(0, 8)) : catalog ? catalog.productName(d.productId) : '…';
            const desired = listed ? (listed.desiredTemplateVersion ?? undefined) : catalog?.template(d.desiredTemplateId)?.version;
            const applied = listed ? listed.appliedTemplateVersion : (catalog?.template(d.appliedTemplateId)?.version ?? null);
            const appliedDiffers = d.appliedTemplateId !== null && d.appliedTemplateId !== d.desiredTemplateId && applied !== null;
            return (
              <tr key={d.id} data-deployment-id={d.id}>
                <td>
                  <a href={href(`/users/${d.userId}/deployments/${d.id}`)}>{d.domainName}</a>
                </td>
                {showOwner && <td>{listed?.ownerEmail ?? d.userId.slice(0, 8)}</td>}
                <td>{productName}</td>
                <td>
                  {desired ?? '…'}
                  {appliedDiffers ? <span className="muted small"> (applied {applied})</span> : null}
                </td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>
                  <span aria-label={`applied ${d.observedGeneration} of ${d.generation}`}>
                    {d.observedGeneration} / {d.generation}
                  </span>
                </td>
                <td className="last-error">{d.lastError ?? <span className="muted">—</span>}</td>
                <td>{formatTime(d.lastDriftCheckAt)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
