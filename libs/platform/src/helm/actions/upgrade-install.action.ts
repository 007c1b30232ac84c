import { dirname } from 'node:path';

import { ConfinementError, type ManifestReview } from '../../kubernetes/confinement';
import { assertNamespaceName, assertReleaseName, resolveChart, upgradeInstallArgs } from '../helm.args';
import { HelmError } from '../helm.errors';
import { parseHookManifests, parseReleaseJson } from '../helm.output';
import { helmFailure, QUICK_TIMEOUT_SECONDS, WATCHDOG_GRACE_SECONDS, type RunResult } from '../helm.process';
import type { HelmRelease, UpgradeInstallRequest } from '../helm.types';
import { startPostRenderer, type PostRenderer } from '../post-renderer';
import { withValuesFile } from '../values-file';
import { assertTimeout, type HelmActionContext } from './helm-action.context';

/**
 * `helm upgrade --install … --wait`: installs or upgrades the release and returns the new
 * revision. With a confinement check, helm hands its rendered manifest to a post-renderer that
 * reviews it, and a server-side dry run reviews the hooks first.
 */
export async function upgradeInstall(ctx: HelmActionContext, req: UpgradeInstallRequest): Promise<HelmRelease> {
  assertReleaseName(req.release);
  assertNamespaceName(req.namespace);
  assertTimeout(req.timeoutSeconds);
  const chart = await resolveChart(req.chart, ctx.options);
  return withValuesFile(req.values, async (valuesFile) => {
    // The check runs between helm's render and its first write, on exactly what helm applies.
    const review = ctx.options.confinement;
    const post: PostRenderer | undefined = review
      ? await startPostRenderer(dirname(valuesFile), async (manifest) => {
          await review.review(manifest, req.namespace);
          return manifest;
        })
      : undefined;
    try {
      const args = upgradeInstallArgs({
        release: req.release,
        namespace: req.namespace,
        kubeconfig: ctx.options.kubeconfig,
        chart,
        valuesFile,
        timeoutSeconds: req.timeoutSeconds,
        description: req.description,
        actAs: ctx.options.actAs?.(req.namespace),
        // CRDs are cluster-scoped and helm installs a chart's crds/ before rendering, unchecked.
        extra: post ? [...post.args, '--skip-crds'] : undefined,
      });
      // The hook dry run and the upgrade are one step: they share one turn of the owner's helm slot.
      const releaseSlot = await ctx.process.acquireSlot('upgrade', req.signal, req.owner);
      let result: RunResult;
      let reviewsBefore: number;
      try {
        if (review && post) await reviewHooks(ctx, args, req, valuesFile, review, post);
        reviewsBefore = post?.reviews() ?? 0;
        ctx.logger.info({ release: req.release, namespace: req.namespace, chart: chart.chart, version: req.chart.version }, 'helm upgrade --install');
        result = await ctx.process.run(args, {
          operation: 'upgrade',
          timeoutSeconds: req.timeoutSeconds + WATCHDOG_GRACE_SECONDS,
          values: req.values,
          valuesFile,
          publicStrings: [req.release, req.namespace],
          signal: req.signal,
          onProgress: req.onProgress,
          slotHeld: true,
        });
      } finally {
        releaseSlot();
      }
      throwRefusal(post);
      if (result.code !== 0) throw helmFailure('upgrade', result);
      if (post && post.reviews() === reviewsBefore) {
        // helm applied without handing its manifest over: the check cannot be trusted to run.
        throw new HelmError('forbidden', 'helm did not run the confinement post-renderer', { operation: 'upgrade' });
      }
      return parseReleaseJson(result.stdout);
    } finally {
      await post?.close();
    }
  });
}

/**
 * helm (3.22) hands only the non-hook manifest to its post-renderer, so hooks are checked on a
 * server-side dry run of the same command first (same chart, values and identity; its
 * manifest passes the post-renderer too). Only a chart that renders differently from one run
 * to the next could slip a hook past this; the tenant's RBAC still stops it at the API server.
 */
async function reviewHooks(ctx: HelmActionContext, args: string[], req: UpgradeInstallRequest, valuesFile: string, review: ManifestReview, post: PostRenderer): Promise<void> {
  const result = await ctx.process.run([...args.filter((a) => a !== '--wait'), '--dry-run=server'], {
    operation: 'upgrade (dry run)',
    timeoutSeconds: QUICK_TIMEOUT_SECONDS + WATCHDOG_GRACE_SECONDS,
    values: req.values,
    valuesFile,
    publicStrings: [req.release, req.namespace],
    signal: req.signal,
    // Inside the upgrade's turn of the slot (upgradeInstall holds it).
    slotHeld: true,
  });
  throwRefusal(post);
  if (result.code !== 0) throw helmFailure('upgrade', result);
  for (const hook of parseHookManifests(result.stdout)) await review.review(hook, req.namespace, 'rendered hook');
}

/** What the post-renderer refused, as the error the step fails with. */
function throwRefusal(post: PostRenderer | undefined): void {
  const refusal = post?.refusal();
  if (refusal) throw refusal instanceof ConfinementError ? refusal : new HelmError('transient', `confinement check failed: ${refusal.message}`, { operation: 'upgrade' });
}
