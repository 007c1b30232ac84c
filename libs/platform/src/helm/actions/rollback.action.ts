import { assertNamespaceName, assertReleaseName } from '../helm.args';
import { HelmError } from '../helm.errors';
import { helmFailure, WATCHDOG_GRACE_SECONDS } from '../helm.process';
import type { HelmRelease, RollbackOptions } from '../helm.types';
import { assertTimeout, reviewStored, targetArgs, type HelmActionContext } from './helm-action.context';
import { status } from './read.action';

/** `helm rollback --wait` to `revision` (default: the one before the latest); returns the new revision. */
export async function rollback(ctx: HelmActionContext, release: string, namespace: string, revision?: number, options: RollbackOptions = {}): Promise<HelmRelease> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  assertTimeout(timeoutSeconds);
  // helm re-applies a stored revision without rendering: check that revision instead.
  if (ctx.options.confinement) {
    const storage = ctx.storage();
    const target = revision ?? ((await storage.latest(release, namespace))?.revision ?? 1) - 1;
    const stored = await storage.revision(release, namespace, target);
    if (!stored) throw new HelmError('invalid-values', `cannot roll back ${release}: revision ${target} is not stored`, { operation: 'rollback' });
    await reviewStored(ctx, stored, namespace, `release revision ${target} (rollback target)`);
  }
  const args = ['rollback', release, ...(revision ? [String(revision)] : []), ...targetArgs(ctx, namespace), '--wait', '--timeout', `${timeoutSeconds}s`, '--history-max', '10', '--debug'];
  ctx.logger.info({ release, namespace, revision }, 'helm rollback');
  const result = await ctx.process.run(args, {
    operation: 'rollback',
    timeoutSeconds: timeoutSeconds + WATCHDOG_GRACE_SECONDS,
    signal: options.signal,
    onProgress: options.onProgress,
    owner: options.owner,
  });
  if (result.code !== 0) throw helmFailure('rollback', result);
  const after = await status(ctx, release, namespace);
  if (!after) throw new HelmError('transient', `release ${release} vanished during rollback`, { operation: 'rollback' });
  return after;
}
