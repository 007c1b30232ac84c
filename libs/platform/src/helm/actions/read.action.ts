import { assertNamespaceName, assertReleaseName } from '../helm.args';
import { isReleaseNotFound, parseHistoryJson, parseMetadataJson } from '../helm.output';
import { helmFailure, QUICK_TIMEOUT_SECONDS } from '../helm.process';
import type { HelmHistoryEntry, HelmRelease } from '../helm.types';
import { targetArgs, type HelmActionContext } from './helm-action.context';

/**
 * The latest revision of a release, or undefined when there is none. Uses `helm get metadata`:
 * unlike `helm status -o json` it names the chart, and it prints neither values nor manifest.
 */
export async function status(ctx: HelmActionContext, release: string, namespace: string): Promise<HelmRelease | undefined> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  const result = await ctx.process.run(['get', 'metadata', release, ...targetArgs(ctx, namespace), '--output', 'json'], {
    operation: 'status',
    timeoutSeconds: QUICK_TIMEOUT_SECONDS,
  });
  if (result.code !== 0) {
    if (isReleaseNotFound(result.stderr)) return undefined;
    throw helmFailure('status', result);
  }
  return parseMetadataJson(result.stdout);
}

/** Revisions, oldest first (at most `max`); empty when the release does not exist. */
export async function history(ctx: HelmActionContext, release: string, namespace: string, max = 20): Promise<HelmHistoryEntry[]> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  const result = await ctx.process.run(['history', release, ...targetArgs(ctx, namespace), '--output', 'json', '--max', String(max)], {
    operation: 'history',
    timeoutSeconds: QUICK_TIMEOUT_SECONDS,
  });
  if (result.code !== 0) {
    if (isReleaseNotFound(result.stderr)) return [];
    throw helmFailure('history', result);
  }
  return parseHistoryJson(result.stdout);
}

/** `helm get manifest` of the latest (or the given) revision; undefined when the release does not exist. */
export async function getManifest(ctx: HelmActionContext, release: string, namespace: string, revision?: number): Promise<string | undefined> {
  assertReleaseName(release);
  assertNamespaceName(namespace);
  const result = await ctx.process.run(['get', 'manifest', release, ...targetArgs(ctx, namespace), ...(revision ? ['--revision', String(revision)] : [])], {
    operation: 'get manifest',
    timeoutSeconds: QUICK_TIMEOUT_SECONDS,
  });
  if (result.code !== 0) {
    if (isReleaseNotFound(result.stderr)) return undefined;
    throw helmFailure('get manifest', result);
  }
  return result.stdout;
}
