import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../../../domain/src';
import { isConnectionError } from '../../../persistence/src';
import { ConfinementError, HelmError, KubeError, ReleaseStorageError } from '../../../platform/src';

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

/**
 * Classifies an error for Temporal: bad values, a missing chart and forbidden actions never
 * heal by retrying (non-retryable, with a clear message); network trouble, 409, 429, 5xx and
 * timeouts are retried with the activity's backoff. Messages never carry values.
 */
export function toActivityFailure(err: unknown, step: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  // The same desired state renders the same objects: waits for a change, like invalid values.
  if (err instanceof ConfinementError) {
    return ApplicationFailure.create({ message: `${step}: ${err.message}`, type: FAILURE_TYPES.confinement, nonRetryable: true, details: [{ violations: err.violations.map((v) => ({ rule: v.rule, kind: v.kind ?? null, name: v.name ?? null, namespace: v.namespace ?? null })) }] });
  }
  if (err instanceof ReleaseStorageError) {
    return ApplicationFailure.create({ message: `${step}: ${err.message}`, type: FAILURE_TYPES.releaseStorage, nonRetryable: true });
  }
  if (err instanceof HelmError) {
    const type = err.kind === 'invalid-values' ? FAILURE_TYPES.invalidValues : err.kind === 'chart-not-found' ? FAILURE_TYPES.chartNotFound : err.kind === 'forbidden' ? FAILURE_TYPES.forbidden : FAILURE_TYPES.helm;
    return ApplicationFailure.create({ message: `${step}: ${err.message}`, type, nonRetryable: !err.retryable, details: [{ kind: err.kind }] });
  }
  if (err instanceof KubeError) {
    const type = err.status === 403 ? FAILURE_TYPES.forbidden : FAILURE_TYPES.kubernetes;
    return ApplicationFailure.create({ message: `${step}: ${err.message}`, type, nonRetryable: !err.retryable, details: [{ status: err.status ?? null, reason: err.reason ?? null }] });
  }
  if (err instanceof DomainError) {
    const retryable = err.code === 'Conflict' || err.code === 'Unavailable';
    const type = err.code === 'InvalidValues' ? FAILURE_TYPES.invalidValues : err.code === 'NotFound' ? FAILURE_TYPES.notFound : err.code;
    const fields = err.fields.length ? `: ${err.fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : '';
    return ApplicationFailure.create({ message: `${step}: ${err.message}${fields}`, type, nonRetryable: !retryable });
  }
  if (isConnectionError(err)) {
    return ApplicationFailure.create({ message: `${step}: the database is unavailable`, type: FAILURE_TYPES.database, nonRetryable: false });
  }
  const message = err instanceof Error ? err.message.split('\n')[0].slice(0, 500) : String(err);
  return ApplicationFailure.create({ message: `${step}: ${message}`, type: FAILURE_TYPES.unknown, nonRetryable: false });
}

/** Runs fn and rethrows anything it throws as a classified ApplicationFailure. */
export async function classified<T>(step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err, step);
  }
}
