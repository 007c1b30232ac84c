/** The merged environment loadConfig reads from: the process environment over `.local/stack.env`. */
export type Env = Record<string, string | undefined>;

export function flagIn(env: Env, key: string, def: boolean, problems: string[]): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (['true', '1'].includes(raw)) return true;
  if (['false', '0'].includes(raw)) return false;
  problems.push(`${key} must be true or false (got "${raw}")`);
  return def;
}

export function intIn(env: Env, key: string, def: number, min: number, max: number, problems: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key} must be an integer between ${min} and ${max} (got "${raw}")`);
    return def;
  }
  return n;
}

/** An optional limit: unset or empty means none. */
export function limitIn(env: Env, key: string, problems: string[]): number | null {
  if (env[key] === undefined || env[key] === '') return null;
  return intIn(env, key, 0, 0, 1_000_000, problems);
}

/** A comma-separated list, entries trimmed, empty entries dropped. */
export function listIn(env: Env, key: string): string[] {
  return splitList(env[key] ?? '');
}

export function splitList(text: string, separator: string | RegExp = ','): string[] {
  return text
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}
