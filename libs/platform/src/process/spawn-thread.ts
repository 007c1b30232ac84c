import { Worker } from 'node:worker_threads';

import type { ChildHandlers, LaunchedChild, ProcessLauncher } from './launcher';

/**
 * Starts processes from a thread of their own, so the caller's event loop never waits for one.
 *
 * Node's spawn forks and then blocks until the child has exec'd. In the worker, whose main
 * thread runs the activities, the watches and the Temporal SDK's callbacks, a CPU profile of 50
 * concurrent creates on two cores found that thread inside spawn for 11 s of the run: about
 * 110 ms for each helm process, most of it waiting for the forked child to be scheduled. Here
 * the waiting happens on this thread; the caller sends one message and gets the output back as
 * messages.
 *
 * The thread only spawns, relays output and forwards kill signals: argument vectors (never a
 * shell), the environment the caller built, stdin closed. It is started on first use, keeps the
 * process alive only while children run, and ends after a minute without any. If it dies, every
 * child it started is killed by pid and reported failed (`ESPAWNTHREAD`); the next launch starts
 * a new thread. (Those killed children stay zombies until the process exits: only the loop that
 * spawned a child reaps it. The thread does not die on its own; `stop` is for shutdown and tests.)
 */
export class SpawnThread implements ProcessLauncher {
  private worker?: Worker;
  private readonly children = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly idleMs = 60_000) {}

  launch(bin: string, args: readonly string[], env: Readonly<Record<string, string>>, on: ChildHandlers): LaunchedChild {
    const worker = this.running();
    const id = this.nextId++;
    const pending: Pending = { on, worker };
    this.children.set(id, pending);
    if (this.children.size === 1) worker.ref();
    clearTimeout(this.idleTimer);
    worker.postMessage({ type: 'spawn', id, bin, args: [...args], env: { ...env } } satisfies ToThread);
    return {
      kill: (signal) => {
        if (this.children.get(id)?.worker === worker) worker.postMessage({ type: 'kill', id, signal } satisfies ToThread);
      },
    };
  }

  /** Ends the thread; children still running are killed and reported failed. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.abandon(worker);
    await worker.terminate();
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'caelus-spawn' });
    worker.unref();
    worker.on('message', (msg: FromThread) => this.onMessage(worker, msg));
    worker.on('error', () => this.abandon(worker));
    worker.on('exit', () => this.abandon(worker));
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, msg: FromThread): void {
    const pending = this.children.get(msg.id);
    if (!pending || pending.worker !== worker) return;
    switch (msg.type) {
      case 'started':
        pending.pid = msg.pid;
        return;
      case 'stdout':
        return pending.on.stdout(Buffer.from(msg.chunk.buffer, msg.chunk.byteOffset, msg.chunk.byteLength));
      case 'stderr':
        return pending.on.stderr(Buffer.from(msg.chunk.buffer, msg.chunk.byteOffset, msg.chunk.byteLength));
      case 'error':
        this.settled(msg.id);
        return pending.on.error(msg.code);
      case 'close':
        this.settled(msg.id);
        return pending.on.close(msg.code);
    }
  }

  private settled(id: number): void {
    this.children.delete(id);
    if (this.children.size > 0 || !this.worker) return;
    const worker = this.worker;
    worker.unref();
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.children.size > 0) return;
      this.worker = undefined;
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** The thread is gone (or going): its children cannot be followed any more. */
  private abandon(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    for (const [id, pending] of this.children) {
      if (pending.worker !== worker) continue;
      this.children.delete(id);
      if (pending.pid !== undefined) killQuietly(pending.pid);
      pending.on.error('ESPAWNTHREAD');
    }
  }
}

let shared: SpawnThread | undefined;

/** The process's one spawn thread (helm runners share it). */
export function sharedSpawnThread(): SpawnThread {
  shared ??= new SpawnThread();
  return shared;
}

interface Pending {
  on: ChildHandlers;
  worker: Worker;
  pid?: number;
}

type ToThread = { type: 'spawn'; id: number; bin: string; args: string[]; env: Record<string, string> } | { type: 'kill'; id: number; signal: NodeJS.Signals };

type FromThread =
  | { type: 'started'; id: number; pid: number }
  | { type: 'stdout' | 'stderr'; id: number; chunk: Uint8Array }
  | { type: 'error'; id: number; code: string }
  | { type: 'close'; id: number; code: number | null };

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * The thread's program, plain CommonJS evaluated by the Worker (no file to locate, whether the
 * worker runs from dist, under tsx or under jest). Messages follow ToThread and FromThread.
 */
const THREAD_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const children = new Map();
const post = (msg) => parentPort.postMessage(msg);
// A copy of exactly the bytes read, handed over rather than cloned again.
const relay = (type, id) => (chunk) => {
  const bytes = new Uint8Array(chunk);
  parentPort.postMessage({ type, id, chunk: bytes }, [bytes.buffer]);
};
parentPort.on('message', (msg) => {
  if (msg.type === 'kill') {
    const child = children.get(msg.id);
    if (child) child.kill(msg.signal);
    return;
  }
  const id = msg.id;
  let child;
  try {
    child = spawn(msg.bin, msg.args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: msg.env });
  } catch (err) {
    post({ type: 'error', id, code: err.code || String(err.message) });
    return;
  }
  let settled = false;
  const settle = (reply) => {
    if (settled) return;
    settled = true;
    children.delete(id);
    post(reply);
  };
  children.set(id, child);
  if (child.pid !== undefined) post({ type: 'started', id, pid: child.pid });
  child.stdout.on('data', relay('stdout', id));
  child.stderr.on('data', relay('stderr', id));
  child.on('error', (err) => settle({ type: 'error', id, code: err.code || String(err.message) }));
  child.on('close', (code) => settle({ type: 'close', id, code }));
});
`;
