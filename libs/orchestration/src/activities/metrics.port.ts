/**
 * What the activities report for metrics. The worker injects an implementation backed by
 * prom-client (libs/observability); tests inject a recording fake. Reporting never throws.
 */
export interface DeploymentMetrics {
  /** A requested change is ready: `seconds` from the request (creation, upgrade or values change). */
  requestReady(e: { kind: 'provisioning' | 'upgrade' | 'values'; product: string; seconds: number }): void;
  /** One drift check; `found` and `corrected` list the kinds of the objects involved. */
  driftChecked(e: { product: string; outcome: 'clean' | 'drifted' | 'release-missing'; found: readonly string[]; corrected: readonly string[] }): void;
  /** A ready deployment became degraded (its workloads stayed unhealthy past the grace), or a degraded one ready again. */
  healthChanged?(e: { product: string; phase: 'degraded' | 'ready' }): void;
  /** One failed activity attempt, by the failure type the activity classified it as. */
  activityFailed(e: { activity: string; type: string; nonRetryable: boolean }): void;
}

export const NO_METRICS: DeploymentMetrics = {
  requestReady: () => undefined,
  driftChecked: () => undefined,
  healthChanged: () => undefined,
  activityFailed: () => undefined,
};

/** Calls a metrics port without letting a bug in reporting fail the activity. */
export function reportMetric(fn: () => void): void {
  try {
    fn();
  } catch {
    // Metrics are best effort.
  }
}
