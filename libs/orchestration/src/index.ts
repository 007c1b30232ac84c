export * from './contract';
export * from './activities';
export * from './client/temporal-deployment-workflows';
export * from './supervisor/supervisor';
export * from './interceptors/activity-metrics.interceptor';
export * from './watcher';
