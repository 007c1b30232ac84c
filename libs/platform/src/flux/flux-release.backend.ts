import { randomBytes } from 'node:crypto';

import type { HelmApplyRequest, HelmReleaseRef, HelmRenderRequest, HelmUninstallRequest } from '../helm/helm-release.backend';
import type { HelmReleaseStorage } from '../helm/helm-release.storage';
import { HelmError } from '../helm/helm.errors';
import { makeScrubber } from '../helm/scrubber';
import type { KubeClient } from '../kubernetes/kube.client';
import { KubeError } from '../kubernetes/kube.errors';
import type { KubeObject, ObjectRef } from '../kubernetes/kube.types';
import type { MetadataCache } from '../kubernetes/metadata-cache';
import { waitForObjects } from '../kubernetes/object-wait';
import {
  buildHelmRelease,
  buildOciRepository,
  buildValuesSecret,
  DriftDetectionMode,
  FORCE_REQUESTED_AT,
  helmReleaseRef,
  ociRepositoryRef,
  ociSource,
  RECONCILE_REQUESTED_AT,
  RESET_REQUESTED_AT,
  splitSecretValues,
  valuesSecretRef,
} from './flux.objects';
import { FluxDriftReport, fluxDriftReports } from './flux.drift-events';
import { FluxOutcome, needsForce, readOutcome } from './flux.status';

/** The request as the activities send it: where the values hold secrets, besides the helm backend's fields. */
export interface FluxApplyRequest extends HelmApplyRequest {
  secretPaths?: readonly (readonly string[])[];
  report?: HelmApplyRequest['report'];
}

export interface FluxReleaseBackendDeps {
  /**
   * The worker's own client: it writes the Flux objects, which the tenant ServiceAccount may not
   * (else a chart could point a HelmRelease at another ServiceAccount).
   */
  kube: Pick<KubeClient, 'get' | 'apply' | 'delete' | 'list' | 'mergePatch' | 'listWithVersion' | 'watchObjects'>;
  /**
   * The tenant ServiceAccount's client in a namespace: it writes the values Secret and reads the
   * HelmRelease's Events (it may, there), so the worker itself needs no right on Secrets or Events.
   * Left out: `kube`.
   */
  tenantIn?: (namespace: string) => Pick<KubeClient, 'apply' | 'delete' | 'list'>;
  /** Helm's release storage, which helm-controller writes as helm does: the deployed manifest is read from it. */
  storage: Pick<HelmReleaseStorage, 'readDeployedManifest' | 'deployedManifestOf'>;
  cache?: Pick<MetadataCache, 'releaseSecrets'>;
  /** Renders the chart without touching the cluster (the helm backend's `helm template`), for the upgrade preview. */
  render: (req: HelmRenderRequest) => Promise<string>;
  /** How often helm-controller reconciles each release on its own, drift detection included. */
  intervalSeconds: number;
  /** helm-controller's drift detection on the HelmReleases (default `enabled`). */
  driftDetection?: DriftDetectionMode;
  plainHttpRegistries?: readonly string[];
  /** How long one watch request of a wait lasts before the next resumes it (default 120 s). */
  watchSeconds?: number;
}

/**
 * The activities' release backend (libs/orchestration's ReleaseBackend port) on Flux: the
 * release is described as an OCIRepository, a HelmRelease and a values Secret in the
 * deployment's namespace, and helm-controller installs it as the tenant ServiceAccount. `apply`
 * waits until helm-controller handled this very apply (its reconcile request) and maps the
 * outcome to the helm backend's errors; `uninstall` deletes the HelmRelease and waits until its
 * finalizer uninstalled the release. Both wait on watches of the Flux objects (one request per
 * object, resumed when the server ends it), never by reading them again on a timer.
 */
export class FluxReleaseBackend {
  constructor(private readonly deps: FluxReleaseBackendDeps) {}

  async apply(req: FluxApplyRequest): Promise<{ revision: number; unlocked: boolean }> {
    // A chart Flux cannot pull by digest is refused before anything is written.
    ociSource(req.chart);
    const scrub = makeScrubber(req.values, undefined, [req.release, req.namespace]);
    const { inline, secret } = splitSecretValues(req.values, req.secretPaths ?? []);
    const { kube } = this.deps;
    const previous = await kube.get(helmReleaseRef(req.release, req.namespace));
    const token = `caelus-${Date.now()}-${randomBytes(3).toString('hex')}`;
    // A failure Flux gave up on (its retries are 0, as the helm backend makes one attempt per
    // apply) is tried again only when asked: force a release and reset the failure counts.
    const annotations = { [RECONCILE_REQUESTED_AT]: token, ...(needsForce(previous) ? { [FORCE_REQUESTED_AT]: token, [RESET_REQUESTED_AT]: token } : {}) };
    const projection = {
      release: req.release,
      namespace: req.namespace,
      chart: req.chart,
      inlineValues: inline,
      secretValues: secret,
      timeoutSeconds: req.timeoutSeconds,
      intervalSeconds: this.deps.intervalSeconds,
      driftDetection: this.deps.driftDetection,
      plainHttpRegistries: this.deps.plainHttpRegistries,
      annotations,
    };
    await this.tenantIn(req.namespace).apply(buildValuesSecret(projection));
    await this.project(() => kube.apply(buildOciRepository(projection)));
    await this.project(() => kube.apply(buildHelmRelease(projection)));
    req.onProgress?.(`HelmRelease ${req.namespace}/${req.release} applied; waiting for helm-controller`);

    let last = '';
    // The OCIRepository is followed too: while the chart is not there, it tells a pull still
    // running from one that failed, which the HelmRelease's own status does not change for.
    const outcome = await this.waitOn(
      req,
      [helmReleaseRef(req.release, req.namespace), ociRepositoryRef(req.release, req.namespace)],
      ([hr, source]): Exclude<FluxOutcome, { state: 'pending' }> | undefined => {
        const read = readOutcome(hr, source, token, scrub);
        if (read.state !== 'pending') return read;
        if (read.detail !== last) req.onProgress?.((last = read.detail));
        return undefined;
      },
      () => new HelmError('timeout', `flux: HelmRelease ${req.namespace}/${req.release} not ready after ${req.timeoutSeconds}s (${last})`, { operation: 'upgrade' }),
    );
    if (outcome.state === 'ready') return { revision: outcome.revision, unlocked: false };
    if (outcome.rolledBack) {
      req.onProgress?.(`helm-controller rolled ${req.release} back to revision ${outcome.rolledBack.revision}`);
      await req.report?.rolledBack?.(outcome.rolledBack);
    }
    throw outcome.error;
  }

  async uninstall(req: HelmUninstallRequest): Promise<{ uninstalled: boolean; kept: string[]; refused?: string }> {
    const { kube } = this.deps;
    const ref = helmReleaseRef(req.release, req.namespace);
    // Its finalizer makes helm-controller uninstall the release (as the tenant) before it goes.
    const deleted = await this.project(() => kube.delete(ref));
    let reported = false;
    await this.waitOn(
      req,
      [ref],
      ([hr]) => {
        if (!hr) return true;
        if (!reported) req.onProgress?.(`waiting for helm-controller to uninstall ${req.release}`);
        reported = true;
        return undefined;
      },
      () => new HelmError('timeout', `flux: HelmRelease ${req.namespace}/${req.release} still exists after ${req.timeoutSeconds}s (is helm-controller running?)`, { operation: 'uninstall' }),
    );
    await this.project(() => kube.delete(ociRepositoryRef(req.release, req.namespace)));
    await this.tenantIn(req.namespace).delete(valuesSecretRef(req.namespace));
    return { uninstalled: deleted, kept: [] };
  }

  render(req: HelmRenderRequest): Promise<string> {
    return this.deps.render(req);
  }

  /** Helm's storage, read in-process as the helm backend reads it: helm-controller writes the same release Secrets. */
  async readDeployedManifest(ref: HelmReleaseRef, options: { fresh?: boolean } = {}): Promise<string | undefined> {
    const listed = options.fresh ? undefined : this.deps.cache?.releaseSecrets(ref.namespace, ref.release);
    return listed ? this.deps.storage.deployedManifestOf(listed, ref.release, ref.namespace) : this.deps.storage.readDeployedManifest(ref.release, ref.namespace);
  }

  /**
   * The drift helm-controller found and corrected on its own reconciles since `since`, from the
   * Events it records on the HelmRelease, read as the tenant. With its drift detection disabled
   * it reports none, and nothing is read.
   */
  async driftReports(ref: HelmReleaseRef, since: Date): Promise<FluxDriftReport[]> {
    if (this.deps.driftDetection === 'disabled') return [];
    const events = await this.tenantIn(ref.namespace).list('v1', 'Event', { namespace: ref.namespace, fieldSelector: `involvedObject.kind=HelmRelease,involvedObject.name=${ref.release}` });
    return fluxDriftReports(events, since);
  }

  /**
   * Suspends the HelmRelease (`spec.suspend`), so helm-controller neither corrects drift nor
   * retries on its own while the deployment is suspended; the next apply lifts it. False when
   * there is no HelmRelease to hold.
   */
  async hold(ref: HelmReleaseRef): Promise<boolean> {
    try {
      await this.project(() => this.deps.kube.mergePatch(helmReleaseRef(ref.release, ref.namespace), { spec: { suspend: true } }));
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }

  /** A wait on the Flux objects through watches, within the request's timeout and cancelled with it. */
  private waitOn<T>(req: { timeoutSeconds: number; signal?: AbortSignal }, refs: ObjectRef[], decide: (objects: (KubeObject | undefined)[]) => T | undefined, timeoutError: () => Error): Promise<T> {
    return waitForObjects(this.deps.kube, refs, decide, { deadline: Date.now() + req.timeoutSeconds * 1000, signal: req.signal, watchSeconds: this.deps.watchSeconds, timeoutError });
  }

  /** A write of the Flux objects; their kinds missing means Flux is not installed, which no retry heals. */
  private async project<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof KubeError && err.reason === 'UnknownKind') {
        throw new KubeError(`the flux release backend needs Flux's CRDs (OCIRepository, HelmRelease) in the cluster: ${err.message}`, err.status, err.reason, false, { cause: err });
      }
      throw err;
    }
  }

  private tenantIn(namespace: string): Pick<KubeClient, 'apply' | 'delete' | 'list'> {
    return this.deps.tenantIn?.(namespace) ?? this.deps.kube;
  }
}
