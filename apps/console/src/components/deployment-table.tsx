import { memo, useRef } from 'react';
import type { Deployment, ListedDeployment } from '../api/types';
import type { Catalog } from '../hooks';
import { href } from '../router';
import { formatTime } from './common';
import { useRowWindow } from './row-window';
import { StatusBadge } from './status-badge';

/**
 * From this many rows on, only the rows near the viewport are in the DOM (see useRowWindow):
 * a thousand rows of eight cells are some 13,000 elements, whose render and layout took most of
 * a second of main thread on the dev machine. Shorter tables keep every row.
 */
export const WINDOW_FROM = 200;

/**
 * A list of deployments. A user's list names products and versions from the catalogue; the admin
 * list's rows carry their names (and owner) from the API, so it needs no catalogue.
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
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  // Windowed rows need one height each, which the fixed layout's single-line cells give.
  const windowed = fixedLayout && items.length >= WINDOW_FROM;
  const rows = useRowWindow(bodyRef, items.length, windowed);
  const columns = showOwner ? 8 : 7;
  const className = ['deployments', fixedLayout && 'fixed', windowed && 'windowed'].filter(Boolean).join(' ');
  return (
    <div className="table-wrap" role="region" aria-label="Deployments" tabIndex={0}>
      {/* aria-rowcount/aria-rowindex: assistive technology learns the table's size and each row's place even when most rows are not in the DOM. */}
      <table className={className} aria-rowcount={items.length + 1} data-rows={items.length}>
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
          <tr aria-rowindex={1}>
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
        <tbody ref={bodyRef} onFocus={windowed ? rows.onFocus : undefined} onBlur={windowed ? rows.onBlur : undefined}>
          {/* One flat list of keyed children: a row keeps its DOM node (and focus) as the gaps around it change. */}
          {rows.segments.flatMap((s) =>
            s.kind === 'gap'
              ? [
                  <tr key={`gap-${s.start}`} className="spacer" aria-hidden="true">
                    <td colSpan={columns} style={{ height: (s.end - s.start) * rows.rowHeight }} />
                  </tr>,
                ]
              : items.slice(s.start, s.end).map((d, i) => <DeploymentRow key={d.id} d={d} index={s.start + i} catalog={catalog} showOwner={showOwner} />),
          )}
        </tbody>
      </table>
    </div>
  );
}

/** One row; memoised, so a scroll that moves the window renders only the rows coming into it. */
const DeploymentRow = memo(function DeploymentRow({ d, index, catalog, showOwner }: { d: Deployment | ListedDeployment; index: number; catalog: Catalog | undefined; showOwner: boolean }) {
  const listed = 'productName' in d ? d : undefined;
  const productName = listed ? (listed.productName ?? d.productId.slice(0, 8)) : catalog ? catalog.productName(d.productId) : '…';
  const desired = listed ? (listed.desiredTemplateVersion ?? undefined) : catalog?.template(d.desiredTemplateId)?.version;
  const applied = listed ? listed.appliedTemplateVersion : (catalog?.template(d.appliedTemplateId)?.version ?? null);
  const appliedDiffers = d.appliedTemplateId !== null && d.appliedTemplateId !== d.desiredTemplateId && applied !== null;
  const owner = listed?.ownerEmail ?? d.userId.slice(0, 8);
  return (
    <tr data-deployment-id={d.id} data-row={index} aria-rowindex={index + 2}>
      {/* Titles: a windowed table's cells are cut to one line; the pointer shows the whole text. */}
      <td title={d.domainName}>
        <a href={href(`/users/${d.userId}/deployments/${d.id}`)}>{d.domainName}</a>
      </td>
      {showOwner && <td title={owner}>{owner}</td>}
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
      <td className="last-error" title={d.lastError ?? undefined}>
        {d.lastError ?? <span className="muted">—</span>}
      </td>
      <td>{formatTime(d.lastDriftCheckAt)}</td>
    </tr>
  );
});
