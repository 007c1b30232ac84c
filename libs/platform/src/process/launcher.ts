import { spawn } from 'node:child_process';

/** What a launched process reports: output as it comes, then either `error` (it never ran) or `close`. */
export interface ChildHandlers {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The process could not be started (or its launcher died); `code` is errno-like, e.g. ENOENT. */
  error(code: string): void;
  /** The process ended and its output is drained; `code` is null when a signal ended it. */
  close(code: number | null): void;
}

export interface LaunchedChild {
  kill(signal: NodeJS.Signals): void;
}

/** Starts a program with an argument vector (never a shell), stdin closed, stdout and stderr piped. */
export interface ProcessLauncher {
  launch(bin: string, args: readonly string[], env: Readonly<Record<string, string>>, on: ChildHandlers): LaunchedChild;
}

/**
 * Starts the process from the calling thread. Node's spawn returns only once the child has
 * exec'd, so on a busy machine the caller's event loop stands still for tens of milliseconds a
 * process; the worker uses the SpawnThread launcher instead (./spawn-thread.ts).
 */
export const inlineLauncher: ProcessLauncher = {
  launch(bin, args, env, on) {
    const child = spawn(bin, [...args], { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env } });
    let settled = false;
    child.stdout.on('data', (chunk: Buffer) => on.stdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => on.stderr(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      on.error(err.code ?? err.message);
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      on.close(code);
    });
    return { kill: (signal) => void child.kill(signal) };
  },
};
