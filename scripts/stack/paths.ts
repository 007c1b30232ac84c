import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The repository root: the nearest directory above this file with a package.json, so it
 * is the same from scripts/stack/ (tsx, jest) and from a compiled dist/scripts/stack/.
 */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

/** Per-checkout state (git-ignored). */
export const LOCAL_DIR = path.join(REPO_ROOT, '.local');
export const LOGS_DIR = path.join(LOCAL_DIR, 'logs');
export const PIDS_DIR = path.join(LOCAL_DIR, 'pids');
export const STACK_ENV_FILE = path.join(LOCAL_DIR, 'stack.env');
/** Symlinks to the cached binaries; exported as CAELUS_TOOLS_BIN. */
export const TOOLS_BIN_DIR = path.join(LOCAL_DIR, 'bin');

/** Per-user tool cache, shared by every checkout on the machine and keyed by version. */
export function toolsCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'caelus', 'tools');
}

export function logFile(component: string): string {
  return path.join(LOGS_DIR, `${component}.log`);
}

export function pidFile(component: string): string {
  return path.join(PIDS_DIR, `${component}.pid`);
}
