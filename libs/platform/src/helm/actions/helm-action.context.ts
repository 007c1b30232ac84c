import type { PlatformLogger } from '../../logger';
import { actAsArgs, kubeconfigArgs } from '../helm.args';
import type { HelmReleaseStorage, StoredRelease } from '../helm-release.storage';
import type { HelmProcess } from '../helm.process';
import type { HelmRunnerOptions } from '../helm-runner.options';

/** What every helm action works with: the process supervisor, the runner's options, Helm's release storage. */
export interface HelmActionContext {
  readonly process: HelmProcess;
  readonly options: HelmRunnerOptions;
  readonly logger: PlatformLogger;
  /** Helm's release storage; only actions that read or repair it call this. */
  storage(): HelmReleaseStorage;
}

/** The namespace, kubeconfig and acting user every release command takes. */
export function targetArgs(ctx: HelmActionContext, namespace: string): string[] {
  return ['--namespace', namespace, ...kubeconfigArgs(ctx.options.kubeconfig), ...actAsArgs(ctx.options.actAs?.(namespace))];
}

export function assertTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`timeoutSeconds must be a positive integer, got ${seconds}`);
}

/** A stored revision's manifest and hooks, through the confinement check (ConfinementError when refused). */
export async function reviewStored(ctx: HelmActionContext, stored: StoredRelease, namespace: string, subject: string): Promise<void> {
  const review = ctx.options.confinement;
  if (!review) return;
  await review.review(stored.manifest, namespace, subject);
  for (const hook of stored.hookManifests) await review.review(hook, namespace, `${subject}, hook`);
}
