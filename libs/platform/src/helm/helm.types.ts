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
