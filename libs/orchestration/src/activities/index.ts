import { createDriftActivities, DriftActivityDeps } from './drift.activities';
import { createHealthActivities, createHealthCheck, HealthActivityDeps } from './health.activities';
import { createHelmActivities, HelmActivityDeps } from './helm.activities';
import { createNamespaceActivities, NamespaceActivityDeps } from './namespace.activities';
import { createStateActivities, StateActivityDeps } from './state.activities';

export * from './activity-errors';
export * from './metrics.port';
export * from './release-backend.port';
export * from './release-backends';
export * from './state.activities';
export * from './namespace.activities';
export * from './helm.activities';
export * from './drift.activities';
export * from './health.activities';

export type ActivityDeps = StateActivityDeps & NamespaceActivityDeps & HelmActivityDeps & DriftActivityDeps & HealthActivityDeps;

/** Every activity the deployment workflow calls, built from its adapters. */
export function createDeploymentActivities(deps: ActivityDeps) {
  const withHealth = { ...deps, healthCheck: deps.healthCheck ?? createHealthCheck(deps) };
  return {
    ...createStateActivities(deps),
    ...createNamespaceActivities(deps),
    ...createHelmActivities(deps),
    ...createDriftActivities(withHealth),
    ...createHealthActivities(withHealth),
  };
}

export type DeploymentActivities = ReturnType<typeof createDeploymentActivities>;
export * from './rollout.activities';
