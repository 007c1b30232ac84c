import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { TEMPORAL_CLIENT, temporalConnectionOptions } from '../../../libs/core/src';
import { DEPLOYMENT_WORKFLOW_PORT, DeploymentWorkflowPort } from '../../../libs/domain/src';
import { fetchExposition, fieldsFirst, MetricsServer, startMetricsServer, WorkerMetrics } from '../../../libs/observability/src';
import { activityMetricsInterceptor, DeploymentActivities, DeploymentSupervisor, ensureClusterWatcher, RolloutActivities, WatcherActivities } from '../../../libs/orchestration/src';
import { DeploymentsRepository, SupervisorSweepsRepository } from '../../../libs/persistence/src';
import { ensureTenantClusterRole, KubeClient, MetadataCache } from '../../../libs/platform/src';
import { installTemporalRuntime } from './temporal-runtime';
import { chooseWorkflowCode } from './workflow-code';
import { DEPLOYMENT_ACTIVITIES, DRIFT_CACHE, ROLLOUT_ACTIVITIES, WATCHER_ACTIVITIES, WORKER_STOPPING } from './worker.providers';

/**
 * Hosts the Temporal worker for deployment and rollout workflows and the supervisor sweep. Shuts down
 * gracefully: running activities get the worker's grace period, then the process exits.
 */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Worker');
  private worker?: Worker;
  private connection?: NativeConnection;
  private running?: Promise<void>;
  private sweepTimer?: NodeJS.Timeout;
  private watcherTimer?: NodeJS.Timeout;
  private metricsServer?: MetricsServer;
  private stopping = false;

  constructor(
    @Inject(CAELUS_CONFIG) private readonly config: CaelusConfig,
    @Inject(DeploymentsRepository) private readonly deploymentsRepo: DeploymentsRepository,
    @Inject(SupervisorSweepsRepository) private readonly sweeps: SupervisorSweepsRepository,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(DEPLOYMENT_WORKFLOW_PORT) private readonly workflows: DeploymentWorkflowPort,
    @Inject(WorkerMetrics) private readonly metrics: WorkerMetrics,
    @Inject(KubeClient) private readonly kube: KubeClient,
    @Inject(DRIFT_CACHE) private readonly driftCache: MetadataCache | null,
    @Inject(DEPLOYMENT_ACTIVITIES) private readonly activities: DeploymentActivities,
    @Inject(WATCHER_ACTIVITIES) private readonly watcherActivities: WatcherActivities | null,
    @Inject(WORKER_STOPPING) private readonly stoppingWorker: AbortController,
    @Inject(ROLLOUT_ACTIVITIES) private readonly rolloutActivities: RolloutActivities,
  ) {}

  /** Polling the task queue: what the readiness probe reports. */
  isReady(): boolean {
    return this.worker?.getState() === 'RUNNING';
  }

  async onApplicationBootstrap(): Promise<void> {
    const cfg = this.config;
    // Before the first native connection: the SDK's metrics exporter is part of its runtime.
    const temporalMetricsUrl = installTemporalRuntime(cfg.metrics.temporalPort, (msg) => this.logger.warn({ msg }));
    if (cfg.metrics.workerPort > 0) {
      // Up before Temporal is reachable, so the liveness probe passes while the worker retries.
      this.metricsServer = await startMetricsServer({
        port: cfg.metrics.workerPort,
        registry: this.metrics.registry,
        extra: temporalMetricsUrl ? () => fetchExposition(temporalMetricsUrl) : undefined,
        ready: () => this.isReady(),
      }).catch((err) => {
        this.logger.warn({ port: cfg.metrics.workerPort, err: (err as Error).message, msg: 'worker metrics listener not started' });
        return undefined;
      });
    }
    void this.ensureTenantRole(this.kube, cfg.tenantClusterRole);

    this.connection = await this.connectWithRetry();
    // From dist/apps/worker/src, dist/ holds the bundle `npm run build` made; under ts-jest or tsx there is none.
    const workflowCode = chooseWorkflowCode(join(__dirname, '..', '..', '..'), require.resolve('../../../libs/orchestration/src/workflows'));
    this.logger.log({ msg: workflowCode.reason });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: cfg.temporal.namespace,
      taskQueue: cfg.temporal.taskQueue,
      ...workflowCode.code,
      activities: { ...this.activities, ...(this.watcherActivities ?? {}), ...this.rolloutActivities },
      shutdownGraceTime: '20s',
      // Cancellation reaches an activity with the answer to its next heartbeat, which the SDK
      // otherwise sends at most every 24 s (0.8 × the 30 s timeout): a delete interrupts an apply
      // in flight within about 5 s (DELETE_INTERRUPTS_APPLY_PATCH).
      maxHeartbeatThrottleInterval: '5s',
      maxConcurrentActivityTaskExecutions: cfg.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: cfg.maxConcurrentWorkflowTasks,
      ...(cfg.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: cfg.maxCachedWorkflows } : {}),
      interceptors: { activity: [activityMetricsInterceptor(this.metrics)] },
    });
    this.running = this.worker.run().catch((err: unknown) => {
      this.logger.error({ err }, 'worker stopped with an error');
      process.exitCode = 1;
    });
    this.logger.log({ taskQueue: cfg.temporal.taskQueue, namespace: cfg.temporal.namespace, msg: 'worker polling' });
    if (this.watcherActivities) this.startWatcher(cfg.temporal.taskQueue);
    else this.logger.warn({ msg: 'cluster watcher off (CAELUS_DRIFT_WATCH=false): drift is found by the periodic check only' });

    if (cfg.supervisorIntervalSeconds === 0) {
      this.logger.warn({ msg: 'supervisor disabled (CAELUS_SUPERVISOR_INTERVAL=0)' });
      return;
    }
    const supervisor = new DeploymentSupervisor(
      this.deploymentsRepo,
      this.client,
      this.workflows,
      { taskQueue: cfg.temporal.taskQueue, stuckAfterSeconds: cfg.stuckAfterSeconds, intervalSeconds: cfg.supervisorIntervalSeconds, identity: workerIdentity() },
      fieldsFirst(this.logger),
      this.sweeps,
    );
    const sweep = () => supervisor.sweep().catch((err) => this.logger.warn({ err: (err as Error).message, msg: 'supervisor sweep failed; will retry' }));
    void sweep();
    // Every worker asks several times per interval (one cheap upsert); Postgres grants one sweep per interval.
    this.sweepTimer = setInterval(() => void sweep(), supervisorTickMs(cfg.supervisorIntervalSeconds));
  }

  /** Starts the task queue's cluster watcher unless it runs; again every minute, in case it was terminated. */
  private startWatcher(taskQueue: string): void {
    const ensure = () => ensureClusterWatcher(this.client, taskQueue).catch((err) => this.logger.warn({ err: (err as Error).message, msg: 'cluster watcher not started yet; will retry' }));
    void ensure();
    this.watcherTimer = setInterval(() => void ensure(), 60_000);
  }

  /**
   * A development cluster (admin kubeconfig) gets the default tenant ClusterRole if it has none;
   * under the chart it exists and the worker may not create ClusterRoles, which is fine.
   */
  private async ensureTenantRole(kube: KubeClient, name: string): Promise<void> {
    try {
      if (await ensureTenantClusterRole(kube, name)) this.logger.log({ clusterRole: name, msg: 'created the default tenant ClusterRole' });
    } catch (err) {
      this.logger.warn({ clusterRole: name, err: (err as Error).message, msg: 'tenant ClusterRole not checked; tenant namespaces are bound to it whether it exists or not' });
    }
  }

  private async connectWithRetry(): Promise<NativeConnection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await NativeConnection.connect(temporalConnectionOptions(this.config));
      } catch (err) {
        if (this.stopping) throw err;
        const delay = Math.min(1000 * 2 ** attempt, 30_000);
        this.logger.warn({ attempt, delayMs: delay, err: (err as Error).message, msg: `Temporal at ${this.config.temporal.address} is not reachable yet` });
        await sleep(delay);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.watcherTimer) clearInterval(this.watcherTimer);
    // The cluster watcher, if it runs here, fails at once so that Temporal moves it to another worker.
    this.stoppingWorker.abort();
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    this.driftCache?.close();
    await this.connection?.close().catch(() => undefined);
    await this.metricsServer?.close();
  }
}

/** How often a worker asks for the sweep: a fifth of the interval, between 1 and 5 seconds. */
export function supervisorTickMs(intervalSeconds: number): number {
  return Math.min(5, Math.max(1, intervalSeconds / 5)) * 1000;
}

/** Recorded with each sweep; the same form as the Temporal SDK's default worker identity. */
function workerIdentity(): string {
  return `${process.pid}@${hostname()}`;
}
