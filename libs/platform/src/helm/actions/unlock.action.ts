import { assertNamespaceName, assertReleaseName } from '../helm.args';
import type { UnlockResult } from '../helm.types';
import type { HelmActionContext } from './helm-action.context';

/**
 * Clears a release stuck in pending-install/upgrade/rollback (a helm process died holding the
 * lock) by marking that revision failed in Helm's storage, as Flux's helm-controller does.
 * Call it before the next helm action; it is a no-op for releases that are not pending.
 */
export async function unlockPending(ctx: HelmActionContext, release: string, namespace: string): Promise<UnlockResult> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  const result = await ctx.storage().unlockPending(release, namespace);
  if (result.unlocked) {
    ctx.logger.warn({ release, namespace, revision: result.revision, previousStatus: result.previousStatus }, 'unlocked helm release stuck in a pending state');
  }
  return result;
}
