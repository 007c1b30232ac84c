import { Readable } from 'node:stream';
import PinoPretty from 'pino-pretty';

export type DevLogFormat = 'pretty' | 'json';

/**
 * How `npm run dev` shows the API's and the worker's logs: readable lines on a terminal, the
 * services' own JSON lines when the output goes to a file or another program.
 */
export function devLogFormat(out: { isTTY?: boolean }): DevLogFormat {
  return out.isTTY ? 'pretty' : 'json';
}

/**
 * Prints a child's JSON log lines readably, each tagged with the child's name. Lines that are not
 * JSON (a stack trace on a crash, say) pass through unchanged.
 */
export function prettyLogs(name: string, logs: Readable, destination: NodeJS.WritableStream = process.stdout): void {
  const pretty = PinoPretty({
    destination,
    sync: true,
    colorize: PinoPretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // pino writes the message as a string.
    messageFormat: (log, messageKey) => `[${name}] ${(log[messageKey] as string | undefined) ?? ''}`,
  });
  logs.pipe(pretty);
}
