/**
 * What the activities need from whatever installs a deployment's release: helm itself, or a Flux
 * HelmRelease. The activities depend on this port only; the worker injects the implementation
 * (ReleaseBackends, routing each call to libs/platform's HelmReleaseBackend or FluxReleaseBackend). Values pass through `apply` and
 * `render` and are never logged or returned.
 */
export interface ReleaseBackend {
  /**
   * Installs or upgrades the release and waits until it is ready. A release left mid-operation
   * by a killed worker is unlocked first; a failed upgrade of a release that was deployed is
   * rolled back to that revision. Both are reported through `request.report` before `apply`
   * returns or throws.
   */
  apply(request: ReleaseApplyRequest): Promise<AppliedRevision>;
  /**
   * Removes the release; one that is already gone is fine. A stored release the backend must not
   * act on (it would reach outside its namespace, or is not one the backend wrote) is not
   * touched: `refused` says why, and the caller deletes the namespace instead.
   */
  uninstall(request: ReleaseUninstallRequest): Promise<ReleaseUninstallResult>;
  /** The manifest the chart renders with the values; nothing touches the cluster. */
  render(request: ReleaseRenderRequest): Promise<string>;
  /**
   * The manifest of the deployed revision, undefined when nothing is deployed. `fresh` reads
   * from the API server; otherwise a watch-fed cache may answer.
   */
  readDeployedManifest(ref: ReleaseRef, options?: { fresh?: boolean }): Promise<string | undefined>;
  /**
   * Drift the backend itself found and corrected since `since` (Flux's helm-controller does, on its
   * own reconciles), for the deployment's event log. A backend that corrects nothing by itself has none.
   */
  driftReports?(ref: ReleaseRef, since: Date): Promise<BackendDriftReport[]>;
  /**
   * Stops the backend's own reconciles of the release until the next `apply` (Flux: the
   * HelmRelease's `spec.suspend`), so a suspended deployment's drift is recorded and left alone
   * by everyone. Whether there was a release to hold. A backend that reconciles nothing by
   * itself has nothing to stop.
   */
  hold?(ref: ReleaseRef): Promise<boolean>;
}

/** One drift correction a backend made by itself. */
export interface BackendDriftReport {
  at: Date;
  /** False: drift was found and could not (fully) be corrected. */
  corrected: boolean;
  objects: { kind: string; name: string; reason: 'missing' | 'modified' }[];
  /** The backend's own one-line account, without values. */
  summary: string;
  /** Unique per occurrence: a report is recorded once. */
  key: string;
}

export interface ReleaseRef {
  release: string;
  namespace: string;
  /**
   * Which backend holds the release: the template's `capabilities.backend` (`helm` when left
   * out). A registry of backends (ReleaseBackends) routes on it; a single backend ignores it.
   */
  backend?: string;
}

/** A chart as a template version pins it. */
export interface ReleaseChart {
  ref: string;
  version?: string;
  digest?: string;
}

/** Common to the calls that may run long. */
export interface ReleaseCallOptions {
  timeoutSeconds: number;
  signal?: AbortSignal;
  /** Progress lines, scrubbed of values. */
  onProgress?: (line: string) => void;
  /** Whose step this is (a user id): the backend shares its capacity fairly between owners. */
  owner?: string;
}

export interface ReleaseApplyRequest extends ReleaseRef, ReleaseCallOptions {
  chart: ReleaseChart;
  values: object;
  /**
   * Where `values` holds secrets (object keys and array indices). A backend that writes values
   * anywhere but helm's own release storage (Flux's HelmRelease) keeps these out of it.
   */
  secretPaths?: string[][];
  /** Recorded with the revision. */
  description?: string;
  report?: ReleaseApplyReport;
}

/** Remediations `apply` performed, for the deployment's event log. */
export interface ReleaseApplyReport {
  /** The newest revision was stuck mid-operation (`previousStatus`) and is now marked failed. */
  unlocked?(e: { revision?: number; previousStatus?: string }): Promise<void>;
  /** About to roll back to `revision` after a failed upgrade. */
  rollingBack?(e: { revision: number }): void;
  /** The upgrade to `failedRevision` failed and the release is back on `revision`. */
  rolledBack?(e: { failedRevision: number; revision: number }): Promise<void>;
}

export interface AppliedRevision {
  revision: number;
  /** A stuck revision was unlocked first. */
  unlocked: boolean;
}

export type ReleaseUninstallRequest = ReleaseRef & ReleaseCallOptions;

export interface ReleaseUninstallResult {
  /** False when there was nothing to remove, or the removal was refused. */
  uninstalled: boolean;
  /** Objects left in place on purpose (e.g. `helm.sh/resource-policy: keep`), as "[Kind] name". */
  kept: string[];
  /** Why the stored release was not acted on. */
  refused?: string;
}

export interface ReleaseRenderRequest extends ReleaseRef {
  chart: ReleaseChart;
  values: object;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}
