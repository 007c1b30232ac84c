import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric Caelus defines, in one place. All names start with `caelus_`; the Temporal SDK's
 * own metrics (worker only) start with `temporal_`.
 */
export const METRIC_NAMES = {
  /** Histogram{product}: seconds from a deployment's creation to its first ready release. */
  provisioningDuration: 'caelus_deployment_provisioning_duration_seconds',
  /** Histogram{product,trigger}: seconds from an upgrade (trigger=upgrade) or values change (trigger=values) to ready. */
  upgradeDuration: 'caelus_deployment_upgrade_duration_seconds',
  /** Counter{product,outcome}: drift checks run, by outcome (clean, drifted, release-missing). */
  driftChecks: 'caelus_drift_checks_total',
  /** Counter{product,kind}: objects found drifted. */
  driftFound: 'caelus_drift_objects_found_total',
  /** Counter{product,kind}: drifted objects re-applied. */
  driftCorrected: 'caelus_drift_objects_corrected_total',
  /** Counter{product,phase}: health changes of ready deployments: phase=degraded (unhealthy past the grace, CAELUS_HEALTH_GRACE) or phase=ready (healthy again). */
  healthChanges: 'caelus_deployment_health_changes_total',
  /** Counter{activity,type,non_retryable}: activity attempts that failed, by failure type. */
  activityFailures: 'caelus_activity_failures_total',
  /** Histogram: seconds a helm step waited for one of the worker's helm slots (CAELUS_HELM_CONCURRENCY). */
  helmSlotWait: 'caelus_helm_slot_wait_seconds',
  /** Gauge{status}: deployments that are not deleted, by status; read from Postgres on every scrape (absent when it fails). */
  deployments: 'caelus_deployments',
} as const;

/** Process metrics (CPU, memory, event loop, GC) share the prefix. */
export const DEFAULT_METRICS_PREFIX = 'caelus_';

/**
 * Helm installs with `--wait` take seconds to minutes; retries after failures can stretch a
 * request to hours, so the buckets run up to two hours.
 */
export const DURATION_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200];

/** A step gets a slot at once or after other releases' helm runs (seconds to minutes each). */
export const SLOT_WAIT_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600];

/** A registry of its own per app instance (tests run several in one process), with process metrics. */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
  return registry;
}

export type ReadyKind = 'provisioning' | 'upgrade' | 'values';
export type DriftOutcome = 'clean' | 'drifted' | 'release-missing';

/** The worker's metrics: what the activities and the activity interceptor report. */
export class WorkerMetrics {
  private readonly provisioning: Histogram<'product'>;
  private readonly upgrade: Histogram<'product' | 'trigger'>;
  private readonly driftChecks: Counter<'product' | 'outcome'>;
  private readonly driftFound: Counter<'product' | 'kind'>;
  private readonly driftCorrected: Counter<'product' | 'kind'>;
  private readonly failures: Counter<'activity' | 'type' | 'non_retryable'>;
  private readonly healthChanges: Counter<'product' | 'phase'>;
  private readonly slotWait: Histogram;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.provisioning = new Histogram({
      name: METRIC_NAMES.provisioningDuration,
      help: 'Seconds from the creation of a deployment to its first ready release',
      labelNames: ['product'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upgrade = new Histogram({
      name: METRIC_NAMES.upgradeDuration,
      help: 'Seconds from an upgrade request (trigger=upgrade) or a values change (trigger=values) to the ready release',
      labelNames: ['product', 'trigger'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.driftChecks = new Counter({ name: METRIC_NAMES.driftChecks, help: 'Drift checks run, by outcome', labelNames: ['product', 'outcome'], registers });
    this.driftFound = new Counter({ name: METRIC_NAMES.driftFound, help: 'Objects found drifted from the deployed release', labelNames: ['product', 'kind'], registers });
    this.driftCorrected = new Counter({ name: METRIC_NAMES.driftCorrected, help: 'Drifted objects re-applied', labelNames: ['product', 'kind'], registers });
    this.healthChanges = new Counter({
      name: METRIC_NAMES.healthChanges,
      help: 'Ready deployments degraded (phase=degraded) and degraded ones ready again (phase=ready)',
      labelNames: ['product', 'phase'],
      registers,
    });
    this.failures = new Counter({
      name: METRIC_NAMES.activityFailures,
      help: 'Failed activity attempts, by activity and failure type (InvalidValues, HelmError, KubernetesError, ...)',
      labelNames: ['activity', 'type', 'non_retryable'],
      registers,
    });
    this.slotWait = new Histogram({
      name: METRIC_NAMES.helmSlotWait,
      help: 'Seconds a helm step waited for a helm slot of this worker (raise CAELUS_HELM_CONCURRENCY when it grows)',
      buckets: SLOT_WAIT_BUCKETS,
      registers,
    });
  }

  helmSlotGranted(e: { waitedMs: number }): void {
    this.slotWait.observe(Math.max(0, e.waitedMs) / 1000);
  }

  requestReady(e: { kind: ReadyKind; product: string; seconds: number }): void {
    const seconds = Math.max(0, e.seconds);
    if (e.kind === 'provisioning') this.provisioning.observe({ product: e.product }, seconds);
    else this.upgrade.observe({ product: e.product, trigger: e.kind }, seconds);
  }

  driftChecked(e: { product: string; outcome: DriftOutcome; found: readonly string[]; corrected: readonly string[] }): void {
    this.driftChecks.inc({ product: e.product, outcome: e.outcome });
    for (const kind of e.found) this.driftFound.inc({ product: e.product, kind });
    for (const kind of e.corrected) this.driftCorrected.inc({ product: e.product, kind });
  }

  healthChanged(e: { product: string; phase: 'degraded' | 'ready' }): void {
    this.healthChanges.inc({ product: e.product, phase: e.phase });
  }

  activityFailed(e: { activity: string; type: string; nonRetryable: boolean }): void {
    this.failures.inc({ activity: e.activity, type: e.type, non_retryable: String(e.nonRetryable) });
  }
}

/** The API's metrics: deployments by status, counted in Postgres when Prometheus scrapes. */
export class ApiMetrics {
  constructor(
    readonly registry: Registry,
    countByStatus: () => Promise<Readonly<Record<string, number>>>,
    statuses: readonly string[],
    onError: (err: unknown) => void = () => undefined,
  ) {
    new Gauge({
      name: METRIC_NAMES.deployments,
      help: 'Deployments that are not deleted, by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        try {
          const counts = await countByStatus();
          for (const status of statuses) this.set({ status }, counts[status] ?? 0);
        } catch (err) {
          // Better no sample than a stale one: the gauge is left out of this scrape (alert on absent()).
          this.reset();
          onError(err);
        }
      },
    });
  }
}
