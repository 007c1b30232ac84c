/** What Nest's Logger takes: one object whose `msg` is the message (nestjs-pino logs its fields). */
export interface MessageObjectLogger {
  debug(message: object): void;
  log(message: object): void;
  warn(message: object): void;
  error(message: object): void;
}

/** The one logger shape the libraries take (platform, domain, supervisor): pino's (fields, message) order. */
export interface FieldsFirstLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Adapts a Nest logger to the libraries' logger: the one place the argument orders meet. */
export function fieldsFirst(logger: MessageObjectLogger): FieldsFirstLogger {
  return {
    debug: (fields, msg) => logger.debug({ ...fields, msg }),
    info: (fields, msg) => logger.log({ ...fields, msg }),
    warn: (fields, msg) => logger.warn({ ...fields, msg }),
    error: (fields, msg) => logger.error({ ...fields, msg }),
  };
}
