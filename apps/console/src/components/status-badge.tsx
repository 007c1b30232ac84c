import { BUSY_STATUSES } from '../api/types';

const LABELS: Record<string, string> = {
  provisioning: 'Provisioning',
  ready: 'Ready',
  upgrading: 'Upgrading',
  degraded: 'Degraded',
  error: 'Error',
  deleting: 'Deleting',
  deleted: 'Deleted',
};

/** A deployment's status: a word and a colour (never colour alone), with a marker while busy. */
export function StatusBadge({ status }: { status: string }) {
  const known = status in LABELS;
  const busy = BUSY_STATUSES.includes(status);
  return (
    <span className={`badge badge-${known ? status : 'unknown'}${busy ? ' badge-busy' : ''}`} data-status={status} title={busy ? `${LABELS[status]}: in progress` : undefined}>
      {busy && <span className="badge-dot" aria-hidden="true" />}
      {known ? LABELS[status] : status}
    </span>
  );
}
