import type { ManifestReview } from '../kubernetes/confinement';
import type { KubeClient } from '../kubernetes/kube.client';
import type { PlatformLogger } from '../logger';
import type { HelmReleaseStorage, ReleaseStorageKubeFor } from './helm-release.storage';

/** Helm's release states, as written in its storage and printed by `helm status`. */
export type HelmReleaseStatus = 'unknown' | 'deployed' | 'uninstalled' | 'superseded' | 'failed' | 'uninstalling' | 'pending-install' | 'pending-upgrade' | 'pending-rollback';

export const PENDING_STATUSES: readonly HelmReleaseStatus[] = ['pending-install', 'pending-upgrade', 'pending-rollback'];

/**
 * Where a chart comes from: `oci://host[:port]/repo/name` (optionally pinned by `digest`,
 * "sha256:<64 hex>") or a local chart directory / .tgz inside the runner's allowed roots.
 */
export interface ChartRef {
  ref: string;
  version?: string;
  digest?: string;
}

export interface HelmRunnerOptions {
  helmBin: string;
  /** Left out inside a pod: helm then uses the pod's service account (in-cluster config). */
  kubeconfig?: string;
  logger?: PlatformLogger;
  /**
   * Helm's release storage (unlock, rollback and uninstall checks, reads). The worker injects
   * the one it shares with the release backend; left out, one is built from `storageKube`,
   * `kube` or `kubeconfig` (tests, scripts).
   */
  storage?: HelmReleaseStorage;
  /** Used for Helm's release storage when `storage` is left out; created from `kubeconfig` when left out too. */
  kube?: KubeClient;
  /**
   * The client for a namespace's release Secrets, when it is not `kube` (the tenant's
   * impersonating client, so storage reads and writes have the tenant's rights only).
   */
  storageKube?: ReleaseStorageKubeFor;
  /**
   * Checks every manifest before helm applies it: what install/upgrade renders (through helm's
   * post-renderer, hooks included), the stored revision a rollback re-applies and the stored
   * release an uninstall acts on. Left out, nothing is checked (tests only).
   */
  confinement?: ManifestReview;
  /**
   * The user helm acts as in a namespace (`--kube-as-user`), e.g. the tenant's ServiceAccount
   * `system:serviceaccount:<ns>:caelus-tenant`; undefined: helm uses its own credentials.
   */
  actAs?: (namespace: string) => string | undefined;
  /** Registry hosts ("host:port") reached over plain HTTP; loopback hosts always are. */
  plainHttpRegistries?: readonly string[];
  /** Directories local charts may come from; without any, local charts are refused. */
  allowedChartRoots?: readonly string[];
  /** Extra environment for helm (HELM_CACHE_HOME, HELM_REGISTRY_CONFIG…). */
  env?: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL when a helm process is cancelled (default 5 s). */
  killGraceMs?: number;
  /**
   * Helm processes this runner runs at once (default 10); further calls wait for a free slot
   * (a cancelled wait starts nothing). Dozens of concurrent `--wait` processes on a small machine
   * starve each other, the worker and the API server they all poll.
   */
  maxConcurrent?: number;
}

/** Common to every call that may run long. */
export interface HelmCallOptions {
  signal?: AbortSignal;
  /** Helm's progress lines (stderr, with --debug), scrubbed of values. */
  onProgress?: (line: string) => void;
  /** Whose step this is (a user id): helm slots are shared fairly between owners (see Slots). */
  owner?: string;
}

export interface UpgradeInstallRequest extends HelmCallOptions {
  release: string;
  namespace: string;
  chart: ChartRef;
  /** Merged values; written to a 0600 file that is removed afterwards, never logged. */
  values: object;
  timeoutSeconds: number;
  /** Recorded as the revision's description (helm --description). */
  description?: string;
}

export interface TemplateRequest extends HelmCallOptions {
  release: string;
  namespace: string;
  chart: ChartRef;
  values: object;
  timeoutSeconds?: number;
}

/** A release revision without its values. */
export interface HelmRelease {
  name: string;
  namespace: string;
  revision: number;
  status: HelmReleaseStatus;
  description?: string;
  chartName?: string;
  chartVersion?: string;
  appVersion?: string;
  lastDeployed?: string;
}

export interface HelmHistoryEntry {
  revision: number;
  status: HelmReleaseStatus;
  chart: string;
  appVersion?: string;
  description?: string;
  updated?: string;
}

export interface UninstallOptions extends HelmCallOptions {
  wait?: boolean;
  timeoutSeconds: number;
}

export interface UninstallResult {
  /** False when there was no release to uninstall. */
  uninstalled: boolean;
  /** Resources left in place by `helm.sh/resource-policy: keep`, as "[Kind] name". */
  kept: string[];
}

export interface RollbackOptions extends HelmCallOptions {
  timeoutSeconds?: number;
}

export interface UnlockResult {
  unlocked: boolean;
  /** The newest revision (when unlocked: the one that was pending and is now failed); absent when there is none. */
  revision?: number;
  previousStatus?: HelmReleaseStatus;
}
