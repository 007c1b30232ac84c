import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium; playwright-core drives it and downloads no browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, self-contained headless run (no sync, updates or background traffic). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

function run(cmd: string, args: string[]): void {
  process.stderr.write(`[chromium] ${cmd} ${args.join(' ')}\n`);
  // Progress goes to the terminal: the first install downloads some hundred megabytes.
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/**
 * Installs Debian's `chromium` package when the browser is missing, so that the console's
 * browser tests run on a fresh machine (CI runs as root). Returns the executable's path.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  process.stderr.write(`[chromium] ${CHROMIUM_PATH} is missing: installing Debian's chromium package\n`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  return CHROMIUM_PATH;
}

if (require.main === module) {
  process.stdout.write(`${ensureChromium()}\n`);
}
