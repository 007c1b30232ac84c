import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { TEMPORAL_CLIENT, temporalConnectionOptions } from '../../../libs/core/src';
import { DEPLOYMENT_WORKFLOW_PORT, DeploymentsService, DeploymentStateService, DeploymentWorkflowPort } from '../../../libs/domain/src';
import { fetchExposition, MetricsServer, startMetricsServer, WorkerMetrics } from '../../../libs/observability/src';
import { createDeploymentActivities, DeploymentSupervisor } from '../../../libs/orchestration/src';
import { activityMetricsInterceptor } from '../../../libs/orchestration/src/interceptors/activity-metrics.interceptor';
import { DeploymentsRepository } from '../../../libs/persistence/src';
import {
  ConfinementChecker,
  DiscoveryCache,
  ensureTenantClusterRole,
  HelmReleaseStorage,
  HelmRunner,
  KubeClient,
  MetadataCache,
  PlatformLogger,
  TenantClients,
  tenantUser,
} from '../../../libs/platform/src';
import { installTemporalRuntime } from './temporal-runtime';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Hosts the Temporal worker for deployment workflows and the supervisor sweep. Shuts down
 * gracefully: running activities get the worker's grace period, then the process exits.
 */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Worker');
  private worker?: Worker;
  private connection?: NativeConnection;
  private running?: Promise<void>;
  private sweepTimer?: NodeJS.Timeout;
  private metricsServer?: MetricsServer;
  private driftCache?: MetadataCache;
  private helm?: HelmRunner;
  private stopping = false;

  constructor(
    @Inject(CAELUS_CONFIG) private readonly config: CaelusConfig,
    @Inject(DeploymentStateService) private readonly state: DeploymentStateService,
    @Inject(DeploymentsService) private readonly deployments: DeploymentsService,
    @Inject(DeploymentsRepository) private readonly deploymentsRepo: DeploymentsRepository,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(DEPLOYMENT_WORKFLOW_PORT) private readonly workflows: DeploymentWorkflowPort,
    @Inject(WorkerMetrics) private readonly metrics: WorkerMetrics,
  ) {}

  /** The worker's helm runner, once bootstrapped (tests watch its slot grants). */
  get helmRunner(): HelmRunner | undefined {
    return this.helm;
  }

  /** Polling the task queue: what the readiness probe reports. */
  isReady(): boolean {
    return this.worker?.getState() === 'RUNNING';
  }

  async onApplicationBootstrap(): Promise<void> {
    const cfg = this.config;
    if (!cfg.kubeconfig && !cfg.inCluster) throw new Error('KUBECONFIG is required by the worker outside a Kubernetes pod');
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
    const platformLogger: PlatformLogger = {
      debug: (msg, fields) => this.logger.debug({ ...fields, msg }),
      info: (msg, fields) => this.logger.log({ ...fields, msg }),
      warn: (msg, fields) => this.logger.warn({ ...fields, msg }),
    };
    const kube = new KubeClient({ kubeconfig: cfg.kubeconfig });
    this.driftCache = cfg.driftWatchCache ? new MetadataCache(kube, { logger: platformLogger }) : undefined;
    // Inside a tenant namespace the worker acts as that namespace's ServiceAccount only.
    const tenants = new TenantClients(kube);
    const storage = new HelmReleaseStorage((namespace) => tenants.for(namespace));
    void this.ensureTenantRole(kube, cfg.tenantClusterRole);
    let confinement: ConfinementChecker | undefined = new ConfinementChecker(new DiscoveryCache(kube));
    if (cfg.skipConfinementCheck) {
      confinement = undefined;
      this.logger.error({ msg: 'CAELUS_TEST_SKIP_CONFINEMENT_CHECK is set: rendered manifests are applied WITHOUT the confinement check (tests only)' });
    }
    const helm = new HelmRunner({
      helmBin: cfg.helmBin,
      kubeconfig: cfg.kubeconfig,
      kube,
      storageKube: (namespace) => tenants.for(namespace),
      confinement,
      actAs: tenantUser,
      plainHttpRegistries: cfg.plainHttpRegistries,
      allowedChartRoots: cfg.chartRoots,
      logger: platformLogger,
      maxConcurrent: cfg.helmConcurrency,
    });
    helm.onSlotGrant((grant) => this.metrics.helmSlotGranted(grant));
    this.helm = helm;
    const activities = createDeploymentActivities({
      state: this.state,
      deployments: this.deployments,
      driftIntervalSeconds: cfg.driftIntervalSeconds,
      failedRecheckSeconds: cfg.failedRecheckSeconds,
      kube,
      storage,
      tenants,
      confinement,
      tenantClusterRole: cfg.tenantClusterRole,
      cache: this.driftCache,
      helm,
      helmTimeoutSeconds: cfg.helmTimeoutSeconds,
      namespaceDeleteTimeoutSeconds: 600,
      tenantEgress: cfg.tenantEgress,
      metrics: this.metrics,
    });

    this.connection = await this.connectWithRetry();
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: cfg.temporal.namespace,
      taskQueue: cfg.temporal.taskQueue,
      workflowsPath: require.resolve('../../../libs/orchestration/src/workflows'),
      activities,
      shutdownGraceTime: '20s',
      maxConcurrentActivityTaskExecutions: cfg.maxConcurrentActivities,
      interceptors: { activity: [activityMetricsInterceptor(this.metrics)] },
    });
    this.running = this.worker.run().catch((err) => {
      this.logger.error({ err }, 'worker stopped with an error');
      process.exitCode = 1;
    });
    this.logger.log({ taskQueue: cfg.temporal.taskQueue, namespace: cfg.temporal.namespace, msg: 'worker polling' });

    if (cfg.supervisorIntervalSeconds === 0) {
      this.logger.warn({ msg: 'supervisor disabled (CAELUS_SUPERVISOR_INTERVAL=0)' });
      return;
    }
    const supervisor = new DeploymentSupervisor(this.deploymentsRepo, this.client, this.workflows, { taskQueue: cfg.temporal.taskQueue, stuckAfterSeconds: cfg.stuckAfterSeconds }, {
      info: (obj, msg) => this.logger.log({ ...obj, msg }),
      warn: (obj, msg) => this.logger.warn({ ...obj, msg }),
    });
    const sweep = () =>
      supervisor.sweep().catch((err) => this.logger.warn({ err: (err as Error).message, msg: 'supervisor sweep failed; will retry' }));
    void sweep();
    this.sweepTimer = setInterval(sweep, cfg.supervisorIntervalSeconds * 1000);
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
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    this.driftCache?.close();
    await this.connection?.close().catch(() => undefined);
    await this.metricsServer?.close();
  }
}

