import { deprecatePatch } from '@temporalio/workflow';

/** Marked histories written since drift ticks became a local activity (before, a drift check was a regular activity). */
export const DRIFT_TICK_PATCH = 'drift-tick-local-activity';

/**
 * Step 2 of patched → deprecatePatch → removal: only the local-activity path is left, and histories
 * recorded with `patched(DRIFT_TICK_PATCH)` still replay. Deployable once no running history has a
 * drift check as a regular activity (a run from before the patch ends at its next continue-as-new,
 * at most MAX_HISTORY_EVENTS / 17 drift intervals after it started). Step 3, once every running
 * history was written with this call, deletes this file and its call; a replay test runs that
 * step already. Its own module so that the replay test can take it out.
 */
export function deprecateDriftTickPatch(): void {
  deprecatePatch(DRIFT_TICK_PATCH);
}
