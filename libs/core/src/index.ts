export * from './core.module';
export * from './tokens';
export * from './temporal-connection';
export * from './factory-provider';
