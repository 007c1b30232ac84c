export * from './config';
export * from './env-file';
