import { assertNamespaceName, assertReleaseName } from '../helm.args';
import { isReleaseNotFound, parseKeptResources } from '../helm.output';
import { helmFailure, WATCHDOG_GRACE_SECONDS } from '../helm.process';
import type { UninstallOptions, UninstallResult } from '../helm.types';
import { assertTimeout, reviewStored, targetArgs, type HelmActionContext } from './helm-action.context';

/** `helm uninstall`; a release that does not exist counts as uninstalled (idempotent). */
export async function uninstall(ctx: HelmActionContext, release: string, namespace: string, options: UninstallOptions): Promise<UninstallResult> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  assertTimeout(options.timeoutSeconds);
  // helm deletes what the stored release lists and runs its delete hooks: check them first.
  if (ctx.options.confinement) {
    const stored = await ctx.storage().latest(release, namespace);
    if (stored) await reviewStored(ctx, stored, namespace, `stored release revision ${stored.revision}`);
  }
  const args = ['uninstall', release, ...targetArgs(ctx, namespace), ...(options.wait ? ['--wait'] : []), '--timeout', `${options.timeoutSeconds}s`, '--debug'];
  ctx.logger.info({ release, namespace }, 'helm uninstall');
  const result = await ctx.process.run(args, {
    operation: 'uninstall',
    timeoutSeconds: options.timeoutSeconds + WATCHDOG_GRACE_SECONDS,
    signal: options.signal,
    onProgress: options.onProgress,
    owner: options.owner,
  });
  if (result.code !== 0) {
    if (isReleaseNotFound(result.stderr)) return { uninstalled: false, kept: [] };
    throw helmFailure('uninstall', result);
  }
  return { uninstalled: true, kept: parseKeptResources(result.stdout) };
}
