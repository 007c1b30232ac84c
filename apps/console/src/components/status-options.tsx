import { DEPLOYMENT_STATUSES } from '../api/types';

/** The options of a status filter: "All", then every status a live deployment can have. */
export function StatusOptions() {
  return (
    <>
      <option value="">All</option>
      {DEPLOYMENT_STATUSES.filter((s) => s !== 'deleted').map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </>
  );
}
