import { KubeClient } from '../kubernetes/kube.client';
import { silentLogger, type PlatformLogger } from '../logger';
import { assertNamespaceName, assertReleaseName } from './helm.args';
import { HelmReleaseStorage } from './helm-release.storage';
import { HelmProcess } from './helm.process';
import type { SlotGrant } from './slots';
import type { HelmRunnerOptions } from './helm-runner.options';
import type { HelmHistoryEntry, HelmRelease, RollbackOptions, TemplateRequest, UninstallOptions, UninstallResult, UnlockResult, UpgradeInstallRequest } from './helm.types';
import type { HelmActionContext } from './actions/helm-action.context';
import { getManifest, history, status } from './actions/read.action';
import { rollback } from './actions/rollback.action';
import { template } from './actions/template.action';
import { uninstall } from './actions/uninstall.action';
import { unlockPending } from './actions/unlock.action';
import { upgradeInstall } from './actions/upgrade-install.action';

/**
 * Runs the helm v3 binary for one release at a time. Every call is a spawned process with an
 * argument vector (never a shell); values reach helm only through a 0600 file in a fresh
 * temporary directory that is removed afterwards; failures become typed HelmErrors. Each
 * command is an action of its own (./actions); this class holds what they share.
 */
export class HelmRunner {
  private readonly ctx: HelmActionContext;
  private readonly process: HelmProcess;
  private storageInstance?: HelmReleaseStorage;

  constructor(private readonly options: HelmRunnerOptions) {
    const logger: PlatformLogger = options.logger ?? silentLogger;
    this.storageInstance = options.storage;
    this.process = new HelmProcess({
      helmBin: options.helmBin,
      kubeconfig: options.kubeconfig,
      env: options.env,
      killGraceMs: options.killGraceMs,
      maxConcurrent: options.maxConcurrent,
      logger,
    });
    this.ctx = { process: this.process, options, logger, storage: () => this.storage };
  }

  /** Calls `listener` each time a helm step gets its slot (metrics, fairness checks); returns the unsubscribe function. */
  onSlotGrant(listener: (grant: SlotGrant) => void): () => void {
    return this.process.onSlotGrant(listener);
  }

  /** `helm upgrade --install … --wait`: installs or upgrades the release and returns the new revision. */
  upgradeInstall(req: UpgradeInstallRequest): Promise<HelmRelease> {
    return upgradeInstall(this.ctx, req);
  }

  /** The latest revision of a release (`helm get metadata`), or undefined when there is none. */
  status(release: string, namespace: string): Promise<HelmRelease | undefined> {
    return status(this.ctx, release, namespace);
  }

  /** Revisions, oldest first (at most `max`); empty when the release does not exist. */
  history(release: string, namespace: string, max = 20): Promise<HelmHistoryEntry[]> {
    return history(this.ctx, release, namespace, max);
  }

  /** `helm get manifest` of the latest (or the given) revision; undefined when the release does not exist. */
  getManifest(release: string, namespace: string, revision?: number): Promise<string | undefined> {
    return getManifest(this.ctx, release, namespace, revision);
  }

  /** Rolls back to `revision` (default: the one before the latest), waits, and returns the new revision. */
  rollback(release: string, namespace: string, revision?: number, options: RollbackOptions = {}): Promise<HelmRelease> {
    return rollback(this.ctx, release, namespace, revision, options);
  }

  /** Uninstalls the release; a release that does not exist counts as uninstalled (idempotent). */
  uninstall(release: string, namespace: string, options: UninstallOptions): Promise<UninstallResult> {
    return uninstall(this.ctx, release, namespace, options);
  }

  /** `helm template`: renders the chart with the values (for previews); nothing touches the cluster. */
  template(req: TemplateRequest): Promise<string> {
    return template(this.ctx, req);
  }

  /** Marks a revision stuck in a pending state failed, so the next helm action can run. */
  unlockPending(release: string, namespace: string): Promise<UnlockResult> {
    return unlockPending(this.ctx, release, namespace);
  }

  /** The newest stored revision and its status, read from Helm's storage in-process (no helm process). */
  async latestStored(release: string, namespace: string): Promise<HelmRelease | undefined> {
    return this.storage.latest(release, namespace);
  }

  /** The deployed manifest straight from Helm's storage (no helm process), for drift checks. */
  async readDeployedManifest(release: string, namespace: string): Promise<string | undefined> {
    assertReleaseName(release);
    assertNamespaceName(namespace);
    return this.storage.readDeployedManifest(release, namespace);
  }

  /** The injected storage; a runner built without one (tests, scripts) makes its own from `storageKube`/`kube`/`kubeconfig`. */
  private get storage(): HelmReleaseStorage {
    this.storageInstance ??= new HelmReleaseStorage(this.options.storageKube ?? this.options.kube ?? new KubeClient({ kubeconfig: this.options.kubeconfig }));
    return this.storageInstance;
  }
}
