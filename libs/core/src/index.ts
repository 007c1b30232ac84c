export * from './core.module';
export * from './tokens';
