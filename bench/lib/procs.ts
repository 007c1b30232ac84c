/**
 * The built API and worker (dist/) as child processes, the way they run in production, and
 * their CPU and memory read from /proc. tsx emits no decorator metadata, so Nest apps cannot
 * run inside the bench process itself.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { log, round, sleep, waitFor } from './util';

export const REPO = join(__dirname, '..', '..');

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux's USER_HZ is 100 nearly everywhere.
}

export interface CpuSample {
  at: number;
  /** CPU seconds of the process itself (all threads): utime + stime. */
  self: number;
  /** CPU seconds of its waited-for children (helm processes): cutime + cstime. */
  children: number;
}

/** CPU seconds of a process from /proc/<pid>/stat. */
export function readCpu(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), so index = n - 3.
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  return { at: Date.now(), self: (utime + stime) / clockTicks, children: (cutime + cstime) / clockTicks };
}

/** Resident memory (VmRSS) and its high-water mark (VmHWM), in MiB. */
export function readMemory(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface AppProcess {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: boolean;
  /** SIGTERM to its process group, SIGKILL after the grace time. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node <root>/dist/apps/<app>/src/main.js` with the given environment in a process group
 * of its own (so helm children go down with it), output to a log file.
 */
export function startBuiltApp(app: 'api' | 'worker', env: Record<string, string>, logFile: string, nodeArgs: string[] = [], root = REPO): AppProcess {
  mkdirSync(join(logFile, '..'), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'apps', app, 'src', 'main.js')], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const proc: AppProcess = {
    name: app,
    pid: child.pid!,
    logFile,
    child,
    exited: false,
    stop: async (graceMs = 25_000) => {
      if (proc.exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const killed = await Promise.race([gone.then(() => false), sleep(graceMs).then(() => true)]);
      if (killed) {
        log(`${app} (pid ${proc.pid}) did not stop within ${graceMs / 1000}s; SIGKILL`);
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await gone;
      }
    },
  };
  child.once('exit', (code, signal) => {
    proc.exited = true;
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') log(`${app} (pid ${proc.pid}) exited with ${code ?? signal}; see ${logFile}`);
  });
  return proc;
}

/** Waits until a line of the app's log matches. */
export async function waitForLog(proc: AppProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${proc.name} to log ${pattern}`,
    async () => {
      if (proc.exited) throw new Error(`${proc.name} exited during start-up; see ${proc.logFile}`);
      return pattern.test(readFileSync(proc.logFile, 'utf8'));
    },
    Boolean,
    timeoutMs,
    200,
  ).catch((err) => {
    throw proc.exited ? new Error(`${proc.name} exited during start-up; see ${proc.logFile}`) : err;
  });
}

/**
 * CPU seconds per thread name (/proc/<pid>/task/<tid>/stat), digits folded so that e.g. the
 * Temporal core's tokio threads or libuv's pool add up to one line each.
 */
export function readThreadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+/g, '#');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[11]) + Number(fields[12])) / clockTicks;
      out.set(tid === String(pid) ? 'main (JS)' : name, (out.get(tid === String(pid) ? 'main (JS)' : name) ?? 0) + cpu);
    } catch {
      // thread exited
    }
  }
  return out;
}

/** Per thread name, the fraction of a core used between two readThreadCpu maps, busiest first; those below `min` left out. */
export function threadCpuFractions(before: Map<string, number>, after: Map<string, number>, seconds: number, digits: number, min: number): Record<string, number> {
  return Object.fromEntries(
    [...after]
      .map(([name, cpu]) => [name, round((cpu - (before.get(name) ?? 0)) / seconds, digits)] as const)
      .filter(([, f]) => f >= min)
      .sort((a, b) => b[1] - a[1]),
  );
}

/** The checkout's commit, marked when tracked files differ from it (what a result file records). */
export function gitHead(root: string): string | undefined {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    // An exported tree (git archive) may name its commit in a COMMIT file.
    return existsSync(join(root, 'COMMIT')) ? readFileSync(join(root, 'COMMIT'), 'utf8').trim() : undefined;
  }
}
