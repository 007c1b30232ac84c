import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** The repository root: three levels above this file in both src and dist layouts. */
export function repoRoot(): string {
  let dir = resolve(__dirname);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'libs'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

/**
 * Parses KEY=value lines (the format `set -a; . file` loads) with Node's dotenv parser: comments,
 * blanks, quotes and `export ` prefixes are handled as dotenv does.
 */
export function parseEnvFile(text: string): Record<string, string> {
  return parseEnv(text) as Record<string, string>;
}

/** Reads `.local/stack.env` when present. Variables already set in the environment win. */
export function readStackEnv(root = repoRoot()): Record<string, string> {
  const file = join(root, '.local', 'stack.env');
  if (!existsSync(file)) return {};
  return parseEnvFile(readFileSync(file, 'utf8'));
}
