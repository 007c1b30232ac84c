import { spawn } from 'node:child_process';

import { silentLogger, type PlatformLogger } from '../logger';
import { childEnv } from '../process/child-env';
import { HelmError, classifyHelmOutput, stripDebugPrefix, summarizeHelmError } from './helm.errors';
import { isStackFrame } from './helm.output';
import { makeScrubber } from './scrubber';
import { SlotGrant, Slots } from './slots';
import type { HelmCallOptions } from './helm.types';

/** Extra time we give helm beyond its own --timeout before we kill it (chart pull, hooks, storage writes). */
export const WATCHDOG_GRACE_SECONDS = 120;
/** Timeout for quick read-only commands (status, history, get manifest). */
export const QUICK_TIMEOUT_SECONDS = 60;
/** Stderr kept for classification; older output is dropped. */
const MAX_STDERR_CHARS = 256 * 1024;
/** Helm processes run at once unless HelmProcessOptions.maxConcurrent says otherwise. */
export const DEFAULT_HELM_CONCURRENCY = 10;

export interface RunResult {
  code: number | null;
  stdout: string;
  /** Scrubbed of values. */
  stderr: string;
}

export interface RunOptions extends HelmCallOptions {
  operation: string;
  timeoutSeconds: number;
  /** Values whose strings must never appear in progress lines, logs or error messages. */
  values?: object;
  valuesFile?: string;
  /** Release and namespace: kept readable in output even when a value repeats them. */
  publicStrings?: string[];
  /** The caller already holds a helm slot for this step (see HelmProcess.acquireSlot). */
  slotHeld?: boolean;
}

export interface HelmProcessOptions {
  helmBin: string;
  kubeconfig?: string;
  env?: Readonly<Record<string, string>>;
  killGraceMs?: number;
  maxConcurrent?: number;
  logger?: PlatformLogger;
}

/**
 * Supervises helm processes: a fair slot per process (Slots), an argument vector (never a
 * shell), a minimal environment, a watchdog, SIGTERM then SIGKILL on cancel or timeout, and
 * stderr split into scrubbed progress lines.
 */
export class HelmProcess {
  private readonly logger: PlatformLogger;
  private readonly slots: Slots;
  private readonly slotListeners = new Set<(grant: SlotGrant) => void>();
  /**
   * Built once: each read of the worker's environment is a call into C++ per variable, and a
   * CPU profile of 50 creates at once put 1.5 s of the main thread there (about 100 processes).
   */
  private readonly env: Readonly<Record<string, string>>;

  constructor(private readonly options: HelmProcessOptions) {
    this.logger = options.logger ?? silentLogger;
    this.env = childEnv({ extra: options.env, kubeconfig: options.kubeconfig });
    this.slots = new Slots(options.maxConcurrent ?? DEFAULT_HELM_CONCURRENCY, (grant) => {
      for (const listener of this.slotListeners) listener(grant);
    });
  }

  /** Calls `listener` each time a helm step gets its slot; returns the unsubscribe function. */
  onSlotGrant(listener: (grant: SlotGrant) => void): () => void {
    this.slotListeners.add(listener);
    return () => this.slotListeners.delete(listener);
  }

  /** Waits for the owner's turn; for steps of several processes that run them with `slotHeld`. Returns the release function. */
  async acquireSlot(operation: string, signal?: AbortSignal, owner?: string): Promise<() => void> {
    if (signal?.aborted) throw cancelled(operation);
    return this.slots.acquire(signal, () => cancelled(operation), owner);
  }

  /** Runs helm once a slot is free (unless the caller holds one). */
  async run(args: string[], opts: RunOptions): Promise<RunResult> {
    if (opts.signal?.aborted) throw cancelled(opts.operation);
    if (opts.slotHeld) return this.spawnHelm(args, opts);
    const release = await this.slots.acquire(opts.signal, () => cancelled(opts.operation), opts.owner);
    try {
      return await this.spawnHelm(args, opts);
    } finally {
      release();
    }
  }

  private spawnHelm(args: string[], opts: RunOptions): Promise<RunResult> {
    const { signal, onProgress } = opts;
    if (signal?.aborted) return Promise.reject(cancelled(opts.operation));
    const scrub = makeScrubber(opts.values, opts.valuesFile, opts.publicStrings);
    const killGraceMs = this.options.killGraceMs ?? 5_000;

    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(this.options.helmBin, args, {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.env,
      });

      const stdout: Buffer[] = [];
      let stderr = '';
      let partial = '';
      let stopReason: HelmError | undefined;
      let killTimer: NodeJS.Timeout | undefined;

      const emitLine = (raw: string) => {
        const line = scrub(stripDebugPrefix(raw)).trimEnd();
        if (!line || isStackFrame(line)) return;
        this.logger.debug({ operation: opts.operation, line }, 'helm');
        onProgress?.(line);
      };

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-MAX_STDERR_CHARS);
        const lines = (partial + chunk).split(/\r?\n/);
        partial = lines.pop() ?? '';
        lines.forEach(emitLine);
      });

      const stop = (reason: HelmError) => {
        if (stopReason) return;
        stopReason = reason;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      };
      const onAbort = () => stop(cancelled(opts.operation));
      signal?.addEventListener('abort', onAbort, { once: true });
      const watchdog = setTimeout(
        () => stop(new HelmError('timeout', `helm ${opts.operation} did not finish within ${opts.timeoutSeconds}s`, { operation: opts.operation })),
        opts.timeoutSeconds * 1000,
      );

      const cleanup = () => {
        clearTimeout(watchdog);
        if (killTimer) clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
      };

      child.on('error', (err: NodeJS.ErrnoException) => {
        cleanup();
        reject(new HelmError('transient', `cannot run helm (${err.code ?? err.message})`, { operation: opts.operation }));
      });
      child.on('close', (code) => {
        cleanup();
        if (partial) emitLine(partial);
        if (stopReason) return reject(stopReason);
        resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: scrub(stderr) });
      });
    });
  }
}

export function cancelled(operation: string): HelmError {
  return new HelmError('transient', `helm ${operation} was cancelled`, { operation });
}

/** The HelmError a failed helm process stands for, classified from its (scrubbed) stderr. */
export function helmFailure(operation: string, result: RunResult): HelmError {
  return new HelmError(classifyHelmOutput(result.stderr), summarizeHelmError(result.stderr), {
    operation,
    exitCode: result.code,
  });
}
