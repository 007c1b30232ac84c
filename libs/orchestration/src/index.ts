export * from './contract';
export * from './activities';
export * from './client/temporal-deployment-workflows';
export * from './supervisor/supervisor';
export * from './interceptors/activity-metrics.interceptor';
export * from './rollout-contract';
export * from './rollout-signal-validation';
export * from './client/temporal-rollout-workflows';
