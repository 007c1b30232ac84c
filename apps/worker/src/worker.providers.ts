import { Logger, type Provider } from '@nestjs/common';
import { CAELUS_CONFIG, CaelusConfig } from '../../../libs/config/src';
import { dep, factoryOf } from '../../../libs/core/src';
import { DeploymentsService, DeploymentStateService, RolloutsService } from '../../../libs/domain/src';
import { createMetricsRegistry, fieldsFirst, WorkerMetrics } from '../../../libs/observability/src';
import { TEMPORAL_CLIENT } from '../../../libs/core/src';
import { createDeploymentActivities, createRolloutActivities, createWatcherActivities, ReleaseBackend, ReleaseBackends, signalDrift } from '../../../libs/orchestration/src';
import { DeploymentsRepository, SupervisorSweepsRepository } from '../../../libs/persistence/src';
import { Client } from '@temporalio/client';
import { DataSource } from 'typeorm';
import {
  ConfinementChecker,
  DiscoveryCache,
  FluxReleaseBackend,
  HelmReleaseBackend,
  HelmReleaseStorage,
  HelmRunner,
  KubeClient,
  MetadataCache,
  PlatformLogger,
  TenantClients,
  tenantUser,
} from '../../../libs/platform/src';

/** The platform adapters' logger (pino's argument order) on the worker's Nest logger. */
export const PLATFORM_LOGGER = Symbol('PLATFORM_LOGGER');
/** The release backend the activities call: each deployment's own (helm or flux, from its template). */
export const RELEASE_BACKEND = Symbol('RELEASE_BACKEND');
/** The confinement check, or null when a test switched it off. */
export const CONFINEMENT = Symbol('CONFINEMENT');
/** The watch-fed metadata cache for drift checks, or null when it is off (CAELUS_DRIFT_WATCH_CACHE). */
export const DRIFT_CACHE = Symbol('DRIFT_CACHE');
/** Every activity of the deployment workflow, built from the adapters below. */
export const DEPLOYMENT_ACTIVITIES = Symbol('DEPLOYMENT_ACTIVITIES');
/** The cluster watcher's activity, or null when the metadata watch is off (CAELUS_DRIFT_WATCH=false). */
export const WATCHER_ACTIVITIES = Symbol('WATCHER_ACTIVITIES');
/** Aborted when the worker shuts down, so the cluster watcher moves to another worker at once. */
export const WORKER_STOPPING = Symbol('WORKER_STOPPING');
/** Every activity of the fleet rollout workflow. */
export const ROLLOUT_ACTIVITIES = Symbol('ROLLOUT_ACTIVITIES');

const config = dep<CaelusConfig>(CAELUS_CONFIG);

/**
 * The worker's adapters, built once from the loaded config (as the Temporal nestjs-exchange-rates
 * sample builds its worker's dependencies). One Helm release storage serves the helm runner and
 * the release backend.
 */
export const workerProviders: Provider[] = [
  { provide: WorkerMetrics, useFactory: () => new WorkerMetrics(createMetricsRegistry()) },
  { provide: PLATFORM_LOGGER, useFactory: (): PlatformLogger => fieldsFirst(new Logger('Worker')) },
  factoryOf(SupervisorSweepsRepository, { db: dep(DataSource) }, ({ db }) => new SupervisorSweepsRepository(db)),
  factoryOf(KubeClient, { cfg: config }, ({ cfg }) => {
    if (!cfg.kubeconfig && !cfg.inCluster) throw new Error('KUBECONFIG is required by the worker outside a Kubernetes pod');
    return new KubeClient({ kubeconfig: cfg.kubeconfig });
  }),
  // Inside a tenant namespace the worker acts as that namespace's ServiceAccount only.
  factoryOf(TenantClients, { kube: dep(KubeClient) }, ({ kube }) => new TenantClients(kube)),
  factoryOf(HelmReleaseStorage, { tenants: dep(TenantClients) }, ({ tenants }) => new HelmReleaseStorage((namespace) => tenants.for(namespace))),
  factoryOf(DiscoveryCache, { kube: dep(KubeClient) }, ({ kube }) => new DiscoveryCache(kube)),
  factoryOf(CONFINEMENT, { cfg: config, discovery: dep(DiscoveryCache) }, ({ cfg, discovery }) => {
    if (!cfg.skipConfinementCheck) return new ConfinementChecker(discovery);
    new Logger('Worker').error({ msg: 'CAELUS_TEST_SKIP_CONFINEMENT_CHECK is set: rendered manifests are applied WITHOUT the confinement check (tests only)' });
    return null;
  }),
  factoryOf(DRIFT_CACHE, { cfg: config, kube: dep(KubeClient), logger: dep<PlatformLogger>(PLATFORM_LOGGER) }, ({ cfg, kube, logger }) =>
    cfg.driftWatchCache ? new MetadataCache(kube, { logger }) : null,
  ),
  factoryOf(
    HelmRunner,
    {
      cfg: config,
      storage: dep(HelmReleaseStorage),
      confinement: dep<ConfinementChecker | null>(CONFINEMENT),
      logger: dep<PlatformLogger>(PLATFORM_LOGGER),
      metrics: dep(WorkerMetrics),
    },
    ({ cfg, storage, confinement, logger, metrics }) => {
      const helm = new HelmRunner({
        helmBin: cfg.helmBin,
        kubeconfig: cfg.kubeconfig,
        storage,
        confinement: confinement ?? undefined,
        actAs: tenantUser,
        plainHttpRegistries: cfg.plainHttpRegistries,
        allowedChartRoots: cfg.chartRoots,
        logger,
        maxConcurrent: cfg.helmConcurrency,
      });
      helm.onSlotGrant((grant) => metrics.helmSlotGranted(grant));
      return helm;
    },
  ),
  factoryOf(
    RELEASE_BACKEND,
    {
      cfg: config,
      helm: dep(HelmRunner),
      kube: dep(KubeClient),
      tenants: dep(TenantClients),
      storage: dep(HelmReleaseStorage),
      cache: dep<MetadataCache | null>(DRIFT_CACHE),
    },
    ({ cfg, helm, kube, tenants, storage, cache }): ReleaseBackend => {
      const helmBackend = new HelmReleaseBackend({ helm, storage, cache: cache ?? undefined });
      // The HelmRelease and OCIRepository are written with the worker's own client (the tenant may
      // not name a ServiceAccount for helm-controller to act as), the values Secret (and the HelmRelease's Events are read) as the tenant.
      const flux = new FluxReleaseBackend({
        kube,
        tenantIn: (namespace) => tenants.for(namespace),
        storage,
        cache: cache ?? undefined,
        render: (req) => helmBackend.render(req),
        intervalSeconds: cfg.fluxIntervalSeconds,
        driftDetection: cfg.fluxDriftDetection,
        plainHttpRegistries: cfg.plainHttpRegistries,
      });
      return new ReleaseBackends({ helm: helmBackend, flux });
    },
  ),
  factoryOf(
    DEPLOYMENT_ACTIVITIES,
    {
      cfg: config,
      state: dep(DeploymentStateService),
      deployments: dep(DeploymentsService),
      kube: dep(KubeClient),
      tenants: dep(TenantClients),
      confinement: dep<ConfinementChecker | null>(CONFINEMENT),
      cache: dep<MetadataCache | null>(DRIFT_CACHE),
      releases: dep<ReleaseBackend>(RELEASE_BACKEND),
      metrics: dep(WorkerMetrics),
    },
    ({ cfg, confinement, cache, ...deps }) =>
      createDeploymentActivities({
        ...deps,
        confinement: confinement ?? undefined,
        cache: cache ?? undefined,
        driftIntervalSeconds: cfg.driftIntervalSeconds,
        failedRecheckSeconds: cfg.failedRecheckSeconds,
        healthGraceSeconds: cfg.healthGraceSeconds,
        tenantClusterRole: cfg.tenantClusterRole,
        helmTimeoutSeconds: cfg.helmTimeoutSeconds,
        namespaceDeleteTimeoutSeconds: 600,
        tenantEgress: cfg.tenantEgress,
      }),
  ),
  { provide: WORKER_STOPPING, useFactory: () => new AbortController() },
  factoryOf(
    WATCHER_ACTIVITIES,
    {
      cfg: config,
      kube: dep(KubeClient),
      client: dep<Client>(TEMPORAL_CLIENT),
      deployments: dep(DeploymentsRepository),
      stopping: dep<AbortController>(WORKER_STOPPING),
      logger: dep<PlatformLogger>(PLATFORM_LOGGER),
    },
    ({ cfg, kube, client, deployments, stopping, logger }) =>
      cfg.driftWatchCache
        ? createWatcherActivities({
            kube,
            logger,
            stopping: stopping.signal,
            signal: (uid, reason) => signalDrift(client, uid, reason),
            liveUids: (uids) => deployments.liveUids(uids),
          })
        : null,
  ),
  factoryOf(ROLLOUT_ACTIVITIES, { rollouts: dep(RolloutsService) }, ({ rollouts }) => createRolloutActivities({ rollouts })),
];
