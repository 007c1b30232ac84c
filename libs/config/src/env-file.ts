import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root: three levels above this file in both src and dist layouts. */
export function repoRoot(): string {
  let dir = resolve(__dirname);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'libs'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

/** Parses KEY=value lines (the format `set -a; . file` loads). Comments and blanks are skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).replace(/^export\s+/, '').trim();
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  }
  return out;
}

/** Reads `.local/stack.env` when present. Variables already set in the environment win. */
export function readStackEnv(root = repoRoot()): Record<string, string> {
  const file = join(root, '.local', 'stack.env');
  if (!existsSync(file)) return {};
  return parseEnvFile(readFileSync(file, 'utf8'));
}
