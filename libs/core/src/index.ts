export * from './core.module';
export * from './tokens';
export * from './temporal-connection';
