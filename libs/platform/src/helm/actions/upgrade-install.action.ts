import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { ManifestReview } from '../../kubernetes/confinement';
import { applyCheckedArgs, checkRenderArgs, parseRenderedRelease, uncheckedParts, type RenderedRelease } from '../checked-render';
import { assertNamespaceName, assertReleaseName, resolveChart, upgradeInstallArgs } from '../helm.args';
import { HelmError } from '../helm.errors';
import { parseReleaseJson } from '../helm.output';
import { helmFailure, QUICK_TIMEOUT_SECONDS, WATCHDOG_GRACE_SECONDS, type RunResult } from '../helm.process';
import type { HelmRelease, UpgradeInstallRequest } from '../helm.types';
import { withValuesFile } from '../values-file';
import { assertTimeout, type HelmActionContext } from './helm-action.context';

/**
 * `helm upgrade --install … --wait`: installs or upgrades the release and returns the new
 * revision. With a confinement check, a server-side dry run renders first, its manifest and hooks
 * are checked, and the upgrade applies exactly the checked manifest (see ../checked-render.ts).
 */
export async function upgradeInstall(ctx: HelmActionContext, req: UpgradeInstallRequest): Promise<HelmRelease> {
  assertReleaseName(req.release);
  assertNamespaceName(req.namespace);
  assertTimeout(req.timeoutSeconds);
  const chart = await resolveChart(req.chart, ctx.options);
  return withValuesFile(req.values, async (valuesFile) => {
    const review = ctx.options.confinement;
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
      extra: review ? ['--skip-crds'] : undefined,
    });
    // The checking render and the upgrade are one step: they share one turn of the owner's helm slot.
    const releaseSlot = await ctx.process.acquireSlot('upgrade', req.signal, req.owner);
    let checked: RenderedRelease | undefined;
    let result: RunResult;
    try {
      let upgradeArgs = args;
      if (review) {
        checked = await renderAndCheck(ctx, args, req, valuesFile, review);
        // Beside the values file: a private directory removed when the step ends.
        const manifestFile = join(dirname(valuesFile), 'checked-manifest.yaml');
        await writeFile(manifestFile, checked.manifest, { mode: 0o600, flag: 'wx' });
        upgradeArgs = [...args, ...applyCheckedArgs(manifestFile)];
      }
      ctx.logger.info({ release: req.release, namespace: req.namespace, chart: chart.chart, version: req.chart.version }, 'helm upgrade --install');
      result = await ctx.process.run(upgradeArgs, {
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
    if (result.code !== 0) throw helmFailure('upgrade', result);
    if (review && checked) await assertAppliedWasChecked(ctx, review, checked, result.stdout, req);
    return parseReleaseJson(result.stdout);
  });
}

/** The server-side dry run of the same command, its manifest and hooks checked (ConfinementError when refused). */
async function renderAndCheck(ctx: HelmActionContext, args: string[], req: UpgradeInstallRequest, valuesFile: string, review: ManifestReview): Promise<RenderedRelease> {
  const keepFile = join(dirname(valuesFile), 'rendered-manifest.yaml');
  const result = await ctx.process.run(checkRenderArgs(args, keepFile), {
    operation: 'upgrade (dry run)',
    timeoutSeconds: QUICK_TIMEOUT_SECONDS + WATCHDOG_GRACE_SECONDS,
    values: req.values,
    valuesFile,
    publicStrings: [req.release, req.namespace],
    signal: req.signal,
    // Inside the upgrade's turn of the slot (upgradeInstall holds it).
    slotHeld: true,
  });
  if (result.code !== 0) {
    // An install stops, forbidden, at an object the tenant may not read: the kept render says which rule it breaks.
    const kept = await readFile(keepFile, 'utf8').catch(() => undefined);
    if (kept !== undefined) await review.review(kept, req.namespace);
    throw helmFailure('upgrade', result);
  }
  const rendered = parseRenderedRelease(result.stdout);
  await review.review(rendered.manifest, req.namespace);
  for (const hook of rendered.hooks) await review.review(hook, req.namespace, 'rendered hook');
  return rendered;
}

/**
 * The release helm stored must hold the checked manifest (the post-renderer substitutes it);
 * hooks the second render made differently are checked now and logged, since helm 3.22 cannot
 * hand them over before it runs them.
 */
async function assertAppliedWasChecked(ctx: HelmActionContext, review: ManifestReview, checked: RenderedRelease, stdout: string, req: UpgradeInstallRequest): Promise<void> {
  const unchecked = uncheckedParts(checked, parseRenderedRelease(stdout));
  if (unchecked.manifest) throw new HelmError('forbidden', 'helm applied a manifest other than the checked one', { operation: 'upgrade' });
  if (!unchecked.hooks.length) return;
  ctx.logger.warn({ release: req.release, namespace: req.namespace, hooks: unchecked.hooks.length }, 'hooks rendered differently from the checked dry run');
  for (const hook of unchecked.hooks) await review.review(hook, req.namespace, 'applied hook (rendered differently from the checked one)');
}
