import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Plain values files live in `caelus-helm-<pid>-<incarnation>-XXXXXX` directories. The runner
 * removes each one when its step ends; a killed worker cannot, so a starting worker removes
 * those of processes that are gone. The incarnation (random per process) tells a dead worker's
 * directories from ours when the pid repeats, as PID 1 does in a restarted container whose /tmp
 * is an emptyDir that survives the restart.
 */
const INCARNATION = randomBytes(4).toString('hex');
const PREFIX = 'caelus-helm-';
const NAME = /^caelus-helm-(?:(\d+)-([0-9a-f]{8})-)?[A-Za-z0-9]{6}$/;
/** Directories named before the pid was part of the name are removed once surely unused. */
const LEGACY_MAX_AGE_MS = 24 * 3600 * 1000;

/** The mkdtemp prefix of this process's values directories. */
export function helmTempDirPrefix(dir = tmpdir()): string {
  return join(dir, `${PREFIX}${process.pid}-${INCARNATION}-`);
}

export interface RemoveStaleOptions {
  /** Where to look (default: the temporary directory the runner writes to). */
  dir?: string;
  now?: number;
  /** True when a process with this pid runs (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  onError?: (path: string, err: NodeJS.ErrnoException) => void;
}

/** Removes the values directories of dead processes; returns the paths removed. */
export async function removeStaleHelmTempDirs(options: RemoveStaleOptions = {}): Promise<string[]> {
  const dir = options.dir ?? tmpdir();
  const isAlive = options.isAlive ?? processIsAlive;
  const now = options.now ?? Date.now();
  const uid = process.getuid?.();
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((name) => name.startsWith(PREFIX));
  } catch (err) {
    options.onError?.(dir, err as NodeJS.ErrnoException);
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const match = NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    try {
      const stat = await lstat(path);
      // Another user's directory in a shared /tmp is not ours to judge (nor to remove).
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      const [, pidText, incarnation] = match;
      const stale = pidText ? (Number(pidText) === process.pid ? incarnation !== INCARNATION : !isAlive(Number(pidText))) : now - stat.mtimeMs > LEGACY_MAX_AGE_MS;
      if (!stale) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch (err) {
      options.onError?.(path, err as NodeJS.ErrnoException);
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
