import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { DataSource } from 'typeorm';
import { CAELUS_CONFIG, CaelusConfig, loadConfig } from '../../config/src';
import {
  DEPLOYMENT_WORKFLOW_PORT,
  DeploymentStateService,
  DeploymentsService,
  DeploymentWorkflowPort,
  DomainLogger,
  MANIFEST_RENDERER,
  ManifestRenderer,
  ProductsService,
  ROLLOUT_WORKFLOW_PORT,
  RolloutsService,
  RolloutWorkflowPort,
  SecretBox,
  TemplatesService,
  UsersService,
  ValuesValidator,
} from '../../domain/src';
import { TemporalDeploymentWorkflows, TemporalRolloutWorkflows } from '../../orchestration/src';
import { createDataSource, DeploymentEventsRepository, DeploymentsRepository, ProductsRepository, RolloutsRepository, TemplatesRepository, UsersRepository } from '../../persistence/src';
import { fieldsFirst } from '../../observability/src';
import { HelmRunner } from '../../platform/src';
import { factoryOf, dep } from './factory-provider';
import { HelmManifestRenderer } from './helm-manifest.renderer';
import { temporalConnectionOptions } from './temporal-connection';
import { DOMAIN_LOGGER, TEMPORAL_CLIENT, TEMPORAL_CONNECTION } from './tokens';

const repo = <T>(cls: new (db: DataSource) => T) => ({ provide: cls, useFactory: (db: DataSource) => new cls(db), inject: [DataSource] });

/**
 * The composition root shared by the API, the worker and the CLI: config, Postgres,
 * repositories, the Temporal client and the domain services, wired once.
 */
@Global()
@Module({
  providers: [
    { provide: CAELUS_CONFIG, useFactory: () => loadConfig() },
    {
      provide: DataSource,
      useFactory: async (cfg: CaelusConfig) => createDataSource(cfg.databaseUrl).initialize(),
      inject: [CAELUS_CONFIG],
    },
    repo(UsersRepository),
    repo(ProductsRepository),
    repo(TemplatesRepository),
    repo(DeploymentsRepository),
    repo(DeploymentEventsRepository),
    repo(RolloutsRepository),
    { provide: ValuesValidator, useFactory: () => new ValuesValidator() },
    { provide: SecretBox, useFactory: (cfg: CaelusConfig) => new SecretBox(cfg.encryptionKey, cfg.previousEncryptionKeys), inject: [CAELUS_CONFIG] },
    {
      // Lazy: the API boots and reports Temporal as down in /health instead of refusing to start.
      provide: TEMPORAL_CONNECTION,
      useFactory: (cfg: CaelusConfig) => Connection.lazy(temporalConnectionOptions(cfg)),
      inject: [CAELUS_CONFIG],
    },
    {
      provide: TEMPORAL_CLIENT,
      useFactory: (connection: Connection, cfg: CaelusConfig) => new Client({ connection, namespace: cfg.temporal.namespace }),
      inject: [TEMPORAL_CONNECTION, CAELUS_CONFIG],
    },
    {
      provide: DEPLOYMENT_WORKFLOW_PORT,
      useFactory: (client: Client, cfg: CaelusConfig) =>
        new TemporalDeploymentWorkflows(client, { namespace: cfg.temporal.namespace, taskQueue: cfg.temporal.taskQueue, uiUrl: cfg.temporal.uiUrl, signalTimeoutMs: cfg.signalTimeoutMs }),
      inject: [TEMPORAL_CLIENT, CAELUS_CONFIG],
    },
    {
      provide: ROLLOUT_WORKFLOW_PORT,
      useFactory: (client: Client, cfg: CaelusConfig) =>
        new TemporalRolloutWorkflows(client, { namespace: cfg.temporal.namespace, taskQueue: cfg.temporal.taskQueue, uiUrl: cfg.temporal.uiUrl, signalTimeoutMs: cfg.signalTimeoutMs }),
      inject: [TEMPORAL_CLIENT, CAELUS_CONFIG],
    },
    {
      // `helm template` only: renders without touching the cluster.
      provide: MANIFEST_RENDERER,
      useFactory: (cfg: CaelusConfig): ManifestRenderer =>
        new HelmManifestRenderer(
          new HelmRunner({
            helmBin: cfg.helmBin,
            kubeconfig: cfg.kubeconfig,
            allowedChartRoots: cfg.chartRoots,
            plainHttpRegistries: cfg.plainHttpRegistries,
            env: cfg.helmEnv,
          }),
        ),
      inject: [CAELUS_CONFIG],
    },
    {
      provide: DOMAIN_LOGGER,
      useFactory: (): DomainLogger => fieldsFirst(new Logger('Domain')),
    },
    {
      provide: UsersService,
      useFactory: (db: DataSource, users: UsersRepository, deployments: DeploymentsRepository, cfg: CaelusConfig) => new UsersService(db, users, deployments, cfg.adminToken, cfg.deploymentQuota),
      inject: [DataSource, UsersRepository, DeploymentsRepository, CAELUS_CONFIG],
    },
    {
      provide: ProductsService,
      useFactory: (db: DataSource, products: ProductsRepository, deployments: DeploymentsRepository) => new ProductsService(db, products, deployments),
      inject: [DataSource, ProductsRepository, DeploymentsRepository],
    },
    {
      provide: TemplatesService,
      useFactory: (products: ProductsRepository, templates: TemplatesRepository, validator: ValuesValidator, cfg: CaelusConfig, box: SecretBox) =>
        new TemplatesService(products, templates, validator, cfg.chartRoots, box),
      inject: [ProductsRepository, TemplatesRepository, ValuesValidator, CAELUS_CONFIG, SecretBox],
    },
    factoryOf(
      DeploymentsService,
      {
        db: dep(DataSource),
        users: dep(UsersRepository),
        products: dep(ProductsRepository),
        templates: dep(TemplatesRepository),
        deployments: dep(DeploymentsRepository),
        events: dep(DeploymentEventsRepository),
        validator: dep(ValuesValidator),
        box: dep(SecretBox),
        workflows: dep<DeploymentWorkflowPort>(DEPLOYMENT_WORKFLOW_PORT),
        renderer: dep<ManifestRenderer>(MANIFEST_RENDERER),
        logger: dep<DomainLogger>(DOMAIN_LOGGER),
        cfg: dep<CaelusConfig>(CAELUS_CONFIG),
      },
      ({ cfg, ...deps }) => new DeploymentsService({ ...deps, quota: cfg.deploymentQuota, allowedDomainSuffixes: cfg.allowedDomainSuffixes }),
    ),
    factoryOf(
      RolloutsService,
      {
        db: dep(DataSource),
        rollouts: dep(RolloutsRepository),
        products: dep(ProductsRepository),
        templates: dep(TemplatesRepository),
        deployments: dep(DeploymentsRepository),
        events: dep(DeploymentEventsRepository),
        upgrades: dep(DeploymentsService),
        workflows: dep<RolloutWorkflowPort>(ROLLOUT_WORKFLOW_PORT),
        logger: dep<DomainLogger>(DOMAIN_LOGGER),
        cfg: dep<CaelusConfig>(CAELUS_CONFIG),
      },
      ({ cfg, ...deps }) => new RolloutsService({ ...deps, healthAssessed: cfg.healthGraceSeconds > 0 }),
    ),
    {
      provide: DeploymentStateService,
      useFactory: (deployments: DeploymentsRepository, templates: TemplatesRepository, events: DeploymentEventsRepository, box: SecretBox) =>
        new DeploymentStateService(deployments, templates, events, box),
      inject: [DeploymentsRepository, TemplatesRepository, DeploymentEventsRepository, SecretBox],
    },
  ],
  exports: [
    CAELUS_CONFIG,
    DataSource,
    UsersRepository,
    ProductsRepository,
    TemplatesRepository,
    DeploymentsRepository,
    DeploymentEventsRepository,
    RolloutsRepository,
    ValuesValidator,
    SecretBox,
    TEMPORAL_CONNECTION,
    TEMPORAL_CLIENT,
    DEPLOYMENT_WORKFLOW_PORT,
    ROLLOUT_WORKFLOW_PORT,
    UsersService,
    ProductsService,
    TemplatesService,
    DeploymentsService,
    DeploymentStateService,
    RolloutsService,
  ],
})
export class CoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(TEMPORAL_CONNECTION) private readonly temporal: Connection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.temporal.close().catch(() => undefined);
    if (this.db.isInitialized) await this.db.destroy();
  }
}
