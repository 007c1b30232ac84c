export * from './contract';
export * from './activities';
export * from './client/temporal-deployment-workflows';
export * from './supervisor/supervisor';
