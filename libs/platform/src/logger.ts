/**
 * The smallest logging surface the adapters need, in pino's argument order (fields first, then
 * the message), the order the domain's and the supervisor's loggers use too. pino, Nest's Logger
 * (through libs/observability's one adapter) and test spies all fit; adapters never log values
 * or secrets through it.
 */
export interface PlatformLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: PlatformLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
