/**
 * The smallest logging surface the adapters need. pino, Nest's Logger (through a tiny
 * wrapper) and test spies all fit; adapters never log values or secrets through it.
 */
export interface PlatformLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: PlatformLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
