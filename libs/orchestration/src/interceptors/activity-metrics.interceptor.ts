import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { DeploymentMetrics, reportMetric } from '../activities/metrics.port';

/** The failure type and retryability of what an activity threw (activities throw classified ApplicationFailures). */
export function failureLabels(err: unknown): { type: string; nonRetryable: boolean } {
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'ApplicationFailure', nonRetryable: err.nonRetryable === true };
  if (err instanceof CancelledFailure) return { type: 'Cancelled', nonRetryable: false };
  return { type: err instanceof Error ? err.name : 'Error', nonRetryable: false };
}

/** Counts every failed activity attempt by activity type and failure type; the error itself passes through unchanged. */
export function activityMetricsInterceptor(metrics: Pick<DeploymentMetrics, 'activityFailed'>): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          reportMetric(() => metrics.activityFailed({ activity: ctx.info.activityType, ...failureLabels(err) }));
          throw err;
        }
      },
    },
  });
}
