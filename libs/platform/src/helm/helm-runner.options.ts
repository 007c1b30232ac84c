import type { ManifestReview } from '../kubernetes/confinement';
import type { KubeClient } from '../kubernetes/kube.client';
import type { PlatformLogger } from '../logger';
import type { HelmReleaseStorage, ReleaseStorageKubeFor } from './helm-release.storage';

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
