import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { helmTempDirPrefix } from './helm-temp-dirs';

/**
 * Values go to helm through a file only we can read, in a fresh directory removed whatever
 * happens. The directory also holds the step's checked manifest.
 */
export async function withValuesFile<T>(values: object, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(helmTempDirPrefix());
  try {
    const path = join(dir, 'values.json');
    // JSON is YAML, and it avoids YAML's surprises with strings like "yes" or "0755".
    await writeFile(path, JSON.stringify(values), { mode: 0o600, flag: 'wx' });
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
