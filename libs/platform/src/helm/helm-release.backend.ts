import { ConfinementError } from '../kubernetes/confinement';
import type { MetadataCache } from '../kubernetes/metadata-cache';
import { HelmError } from './helm.errors';
import type { HelmReleaseStorage } from './helm-release.storage';
import type { HelmRunner } from './helm.runner';
import { PENDING_STATUSES, type ChartRef, type HelmCallOptions, type HelmRelease, type UnlockResult } from './helm.types';
import { ReleaseStorageError } from './helm-release.storage';

export interface HelmReleaseRef {
  release: string;
  namespace: string;
}

export interface HelmApplyRequest extends HelmReleaseRef, HelmCallOptions {
  chart: ChartRef;
  values: object;
  timeoutSeconds: number;
  description?: string;
  report?: {
    unlocked?(e: { revision?: number; previousStatus?: string }): Promise<void>;
    rolledBack?(e: { failedRevision: number; revision: number }): Promise<void>;
  };
}

export type HelmUninstallRequest = HelmReleaseRef & HelmCallOptions & { timeoutSeconds: number };

export interface HelmRenderRequest extends HelmReleaseRef {
  chart: ChartRef;
  values: object;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface HelmReleaseBackendDeps {
  helm: Pick<HelmRunner, 'unlockPending' | 'upgradeInstall' | 'status' | 'rollback' | 'uninstall' | 'template'>;
  /** The worker's one Helm release storage (the runner's too). */
  storage: Pick<HelmReleaseStorage, 'latest' | 'readDeployedManifest' | 'deployedManifestOf'>;
  /** Watch-fed release Secret metadata: a steady drift check then reads nothing from the API server. */
  cache?: Pick<MetadataCache, 'releaseSecrets'>;
}

/**
 * The activities' release backend (libs/orchestration's ReleaseBackend port) on helm. One
 * reconcile is a few named steps, in the order Flux's helm-controller takes them: unlock a
 * stale release, upgrade, roll a failed upgrade back, check helm recorded what it reported.
 */
export class HelmReleaseBackend {
  constructor(private readonly deps: HelmReleaseBackendDeps) {}

  async apply(req: HelmApplyRequest): Promise<{ revision: number; unlocked: boolean }> {
    const unlock = await this.unlockStaleRelease(req);
    // The newest revision as the unlock just read it from Helm's storage: what `helm status`
    // would say, without starting a helm process for it.
    const before = unlock.revision === undefined ? undefined : { revision: unlock.revision, status: unlock.unlocked ? 'failed' : unlock.previousStatus };
    let rel: HelmRelease;
    try {
      rel = await this.deps.helm.upgradeInstall({
        release: req.release,
        namespace: req.namespace,
        chart: req.chart,
        values: req.values,
        timeoutSeconds: req.timeoutSeconds,
        description: req.description,
        signal: req.signal,
        onProgress: req.onProgress,
        owner: req.owner,
      });
    } catch (err) {
      await this.rollBackFailedUpgrade(req, err, before?.status === 'deployed' || before?.status === 'superseded' ? before.revision : undefined);
      throw err;
    }
    await this.assertRecorded(req, rel);
    return { revision: rel.revision, unlocked: unlock.unlocked };
  }

  async uninstall(req: HelmUninstallRequest): Promise<{ uninstalled: boolean; kept: string[]; refused?: string }> {
    try {
      await this.deps.helm.unlockPending(req.release, req.namespace);
      return await this.deps.helm.uninstall(req.release, req.namespace, { wait: true, timeoutSeconds: req.timeoutSeconds, signal: req.signal, onProgress: req.onProgress, owner: req.owner });
    } catch (err) {
      // helm would delete, and run hooks, outside the namespace: leave the release to the namespace deletion.
      if (err instanceof ConfinementError || err instanceof ReleaseStorageError) return { uninstalled: false, kept: [], refused: err.message };
      throw err;
    }
  }

  render(req: HelmRenderRequest): Promise<string> {
    return this.deps.helm.template(req);
  }

  /** Reads Helm's storage in-process (no helm process); the cache's release Secret list unless `fresh`. */
  async readDeployedManifest(ref: HelmReleaseRef, options: { fresh?: boolean } = {}): Promise<string | undefined> {
    const listed = options.fresh ? undefined : this.deps.cache?.releaseSecrets(ref.namespace, ref.release);
    return listed ? this.deps.storage.deployedManifestOf(listed, ref.release, ref.namespace) : this.deps.storage.readDeployedManifest(ref.release, ref.namespace);
  }

  /** A revision left pending by a killed helm process is marked failed, so helm can act again. */
  private async unlockStaleRelease(req: HelmApplyRequest): Promise<UnlockResult> {
    const unlock = await this.deps.helm.unlockPending(req.release, req.namespace);
    if (unlock.unlocked) await req.report?.unlocked?.({ revision: unlock.revision, previousStatus: unlock.previousStatus });
    return unlock;
  }

  /** After a failed upgrade of a deployed release, back to the last good revision (when the failure left a newer one). */
  private async rollBackFailedUpgrade(req: HelmApplyRequest, err: unknown, lastGood: number | undefined): Promise<void> {
    // A confinement refusal, bad values or a missing chart applied nothing: there is nothing to roll back.
    if (lastGood === undefined || err instanceof ConfinementError || (err instanceof HelmError && (err.kind === 'invalid-values' || err.kind === 'chart-not-found'))) return;
    const now = await this.deps.helm.status(req.release, req.namespace).catch(() => undefined);
    if (!now || now.revision <= lastGood || now.status === 'deployed') return;
    req.onProgress?.(`rolling back ${req.release} to revision ${lastGood}`);
    await this.deps.helm.rollback(req.release, req.namespace, lastGood, { timeoutSeconds: req.timeoutSeconds, signal: req.signal, owner: req.owner });
    await req.report?.rolledBack?.({ failedRevision: now.revision, revision: lastGood });
  }

  private async assertRecorded(req: HelmReleaseRef, rel: HelmRelease): Promise<void> {
    const unrecorded = unrecordedRelease(rel, await this.deps.storage.latest(req.release, req.namespace));
    if (unrecorded) throw unrecorded;
  }
}

/**
 * helm exits 0 when its wait succeeded even if it then could not record the release (it only
 * logs "failed to record the release"), e.g. when the API server went away at that moment: the
 * revision stays pending in storage while helm reports it deployed. That is a retryable failure,
 * not a ready release; the retry unlocks the revision and upgrades again.
 */
export function unrecordedRelease(reported: { revision: number }, stored: { revision: number; status: string } | undefined): HelmError | undefined {
  if (!stored || stored.revision !== reported.revision || !(PENDING_STATUSES as readonly string[]).includes(stored.status)) return undefined;
  return new HelmError('transient', `helm reported revision ${reported.revision} done but could not record it: its release Secret is still ${stored.status}`, { operation: 'upgrade' });
}
