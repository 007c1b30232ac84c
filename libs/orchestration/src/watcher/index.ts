export * from './change-filter';
export * from './signal-batcher';
export * from './cluster-watch';
export * from './cluster-watcher.activities';
export * from './cluster-watcher.client';
