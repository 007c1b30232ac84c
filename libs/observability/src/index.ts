export * from './metrics';
export * from './metrics-server';
export * from './log-redaction';
export * from './logger-port';
