import { useEffect, useRef, type ReactNode } from 'react';
import { ApiError } from '../api/api.client';

/** The page's h1; it takes focus on navigation so keyboard and screen-reader users start there. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const e = error as Error;
  const status = e instanceof ApiError && e.status ? ` (${e.status})` : '';
  return (
    <div className="error-box" role="alert">
      <p>
        <strong>Something went wrong{status}.</strong> {e.message}
        {e instanceof ApiError && e.requestId ? <span className="muted"> Request id: {e.requestId}</span> : null}
      </p>
      {e instanceof ApiError && e.fields.length > 0 && (
        <ul>
          {e.fields.map((f, i) => (
            <li key={i}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Pager({ hasPrev, hasNext, onPrev, onNext, label }: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void; label: string }) {
  if (!hasPrev && !hasNext) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={onPrev} disabled={!hasPrev}>
        ← Previous
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </nav>
  );
}

// One formatter for every cell: toLocaleString() builds a new one per call, which a table of
// 1,000 deployments pays for a thousand times.
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFormat.format(d);
}

/** Cursor paging state: the cursors of the pages before the current one. */
export function nextPageState(stack: (string | null)[], next: string | null): (string | null)[] {
  return next ? [...stack, next] : stack;
}
