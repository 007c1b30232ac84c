import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DomainError, DomainErrorCode } from '../../../domain/src';
import { isConnectionError } from '../../../persistence/src';
import { ConfinementError, HelmError, HelmErrorKind, KubeError, ReleaseStorageError } from '../../../platform/src';

/** Failure types the workflow and operators see in history. */
export const FAILURE_TYPES = {
  invalidValues: 'InvalidValues',
  chartNotFound: 'ChartNotFound',
  forbidden: 'Forbidden',
  confinement: 'Confinement',
  releaseStorage: 'ReleaseStorageInvalid',
  notFound: 'NotFound',
  helm: 'HelmError',
  kubernetes: 'KubernetesError',
  database: 'DatabaseUnavailable',
  unknown: 'Unexpected',
} as const;

/** The failure type of each helm error kind; its retryability is the HelmError's own (helm.errors.ts). */
export const HELM_FAILURE_TYPES: Record<HelmErrorKind, string> = {
  'invalid-values': FAILURE_TYPES.invalidValues,
  'chart-not-found': FAILURE_TYPES.chartNotFound,
  forbidden: FAILURE_TYPES.forbidden,
  pending: FAILURE_TYPES.helm,
  timeout: FAILURE_TYPES.helm,
  transient: FAILURE_TYPES.helm,
};

/** Each domain error code as an activity failure: only a conflict or an unavailable dependency heals by retrying. */
export const DOMAIN_FAILURES: Record<DomainErrorCode, { type: string; retryable: boolean }> = {
  InvalidInput: { type: 'InvalidInput', retryable: false },
  InvalidValues: { type: FAILURE_TYPES.invalidValues, retryable: false },
  Unauthenticated: { type: 'Unauthenticated', retryable: false },
  Forbidden: { type: 'Forbidden', retryable: false },
  NotFound: { type: FAILURE_TYPES.notFound, retryable: false },
  Conflict: { type: 'Conflict', retryable: true },
  Unavailable: { type: 'Unavailable', retryable: true },
};

/** What an activity may throw, by where it comes from. */
export type ActivityErrorSource =
  | { source: 'activity'; failure: ApplicationFailure }
  | { source: 'confinement'; error: ConfinementError }
  | { source: 'release-storage'; error: ReleaseStorageError }
  | { source: 'helm'; error: HelmError }
  | { source: 'kubernetes'; error: KubeError }
  | { source: 'domain'; error: DomainError }
  | { source: 'database' }
  | { source: 'unknown'; error: unknown };

export function sourceOf(err: unknown): ActivityErrorSource {
  if (err instanceof ApplicationFailure) return { source: 'activity', failure: err };
  if (err instanceof ConfinementError) return { source: 'confinement', error: err };
  if (err instanceof ReleaseStorageError) return { source: 'release-storage', error: err };
  if (err instanceof HelmError) return { source: 'helm', error: err };
  if (err instanceof KubeError) return { source: 'kubernetes', error: err };
  if (err instanceof DomainError) return { source: 'domain', error: err };
  if (isConnectionError(err)) return { source: 'database' };
  return { source: 'unknown', error: err };
}

/**
 * Classifies an error for Temporal: bad values, a missing chart and forbidden actions never
 * heal by retrying (non-retryable, with a clear message); network trouble, 409, 429, 5xx and
 * timeouts are retried with the activity's backoff. Messages never carry values.
 */
export function toActivityFailure(err: unknown, step: string): ApplicationFailure {
  const from = sourceOf(err);
  switch (from.source) {
    case 'activity':
      return from.failure;
    case 'confinement':
      // The same desired state renders the same objects: waits for a change, like invalid values.
      return ApplicationFailure.create({
        message: `${step}: ${from.error.message}`,
        type: FAILURE_TYPES.confinement,
        nonRetryable: true,
        details: [{ violations: from.error.violations.map((v) => ({ rule: v.rule, kind: v.kind ?? null, name: v.name ?? null, namespace: v.namespace ?? null })) }],
      });
    case 'release-storage':
      return ApplicationFailure.create({ message: `${step}: ${from.error.message}`, type: FAILURE_TYPES.releaseStorage, nonRetryable: true });
    case 'helm':
      return ApplicationFailure.create({
        message: `${step}: ${from.error.message}`,
        type: HELM_FAILURE_TYPES[from.error.kind],
        nonRetryable: !from.error.retryable,
        details: [{ kind: from.error.kind }],
      });
    case 'kubernetes': {
      const { status, reason } = from.error;
      const type = status === 403 ? FAILURE_TYPES.forbidden : FAILURE_TYPES.kubernetes;
      return ApplicationFailure.create({ message: `${step}: ${from.error.message}`, type, nonRetryable: !from.error.retryable, details: [{ status: status ?? null, reason: reason ?? null }] });
    }
    case 'domain': {
      const { type, retryable } = DOMAIN_FAILURES[from.error.code];
      const fields = from.error.fields.length ? `: ${from.error.fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : '';
      return ApplicationFailure.create({ message: `${step}: ${from.error.message}${fields}`, type, nonRetryable: !retryable });
    }
    case 'database':
      return ApplicationFailure.create({ message: `${step}: the database is unavailable`, type: FAILURE_TYPES.database, nonRetryable: false });
    case 'unknown': {
      const message = from.error instanceof Error ? from.error.message.split('\n')[0].slice(0, 500) : String(from.error);
      return ApplicationFailure.create({ message: `${step}: ${message}`, type: FAILURE_TYPES.unknown, nonRetryable: false });
    }
    default:
      return unreachable(from);
  }
}

function unreachable(from: never): never {
  throw new Error(`unclassified activity error source: ${JSON.stringify(from)}`);
}

/**
 * Runs fn and rethrows anything it throws as a classified ApplicationFailure, except when the
 * workflow cancelled the activity: then as a CancelledFailure, whatever fn threw on its way out
 * (a killed helm's "cancelled"), so Temporal records the activity cancelled, not failed.
 */
export async function classified<T>(step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CancelledFailure) throw err;
    if (cancelRequested()) throw new CancelledFailure(`${step}: cancelled by the workflow`, [], err instanceof Error ? err : undefined);
    throw toActivityFailure(err, step);
  }
}

/** Whether the running activity's workflow asked to cancel it (not a worker shutdown or a timeout); false outside an activity. */
function cancelRequested(): boolean {
  const ctx = asyncLocalStorage.getStore();
  return Boolean(ctx?.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested);
}
