import { Logger } from '@nestjs/common';
import { removeStaleHelmTempDirs } from '../../../libs/platform/src';

/**
 * Removes the plain values files a killed worker left behind (its step's `finally` never ran).
 * Runs before the application starts, so it is not held up by an unreachable Temporal; what it
 * did is logged once the application's logger is in place. Never fatal.
 */
export async function removeStaleValuesFiles(): Promise<{ log(logger?: Logger): void }> {
  const problems: { path: string; code?: string }[] = [];
  const removed = await removeStaleHelmTempDirs({ onError: (path, err) => problems.push({ path, code: err.code }) });
  return {
    log(logger = new Logger('Worker')) {
      if (removed.length) logger.log({ removed, msg: `removed ${removed.length} helm values director${removed.length === 1 ? 'y' : 'ies'} left by a stopped worker` });
      for (const p of problems) logger.warn({ ...p, msg: 'cannot remove a stale helm values directory' });
    },
  };
}
