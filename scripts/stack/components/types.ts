export type Log = (line: string) => void;

export interface Health {
  ok: boolean;
  detail: string;
}

export interface Component {
  name: string;
  /** Where to look when it fails. */
  logFile: string;
  /** Idempotent: returns quickly when already healthy, otherwise starts it and waits. */
  up(log: Log): Promise<void>;
  health(): Promise<Health>;
  /** Stops what the stack started; returns a one-line summary. */
  down(): Promise<string>;
  /** Rows for the endpoint table: [what, where]. */
  endpoints(): Array<[string, string]>;
  /** Lines contributed to .local/stack.env. */
  env(): Record<string, string>;
  /** False when the component needs none of the built tools (default true). */
  readonly usesTools?: boolean;
  /** Removes state the component keeps outside .local/ (after down()); returns a one-line summary. */
  reset?(): Promise<string>;
}

export class ComponentError extends Error {
  constructor(
    readonly component: string,
    readonly logFile: string,
    message: string,
  ) {
    super(`${component}: ${message}\n  log: ${logFile}`);
  }
}
