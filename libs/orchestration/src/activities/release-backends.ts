import { invalidInput, type DesiredState } from '../../../domain/src';
import type {
  AppliedRevision,
  BackendDriftReport,
  ReleaseApplyRequest,
  ReleaseBackend,
  ReleaseRef,
  ReleaseRenderRequest,
  ReleaseUninstallRequest,
  ReleaseUninstallResult,
} from './release-backend.port';

/** The backend a release without one names: helm, as before templates could choose. */
export const DEFAULT_BACKEND = 'helm';

/** The release backend of the deployment's template (fixed for its life: upgrades keep it); undefined means helm. */
export function backendOf(d: Pick<DesiredState, 'template'>): string | undefined {
  return d.template.capabilities?.backend;
}

/**
 * The release backends the worker has, as one ReleaseBackend: each call goes to the backend its
 * request names (`backend`, from the template's capabilities), helm when it names none. The
 * activities and the workflow stay the same whichever backend a deployment uses.
 */
export class ReleaseBackends implements ReleaseBackend {
  constructor(private readonly backends: Readonly<Record<string, ReleaseBackend | undefined>> & { [DEFAULT_BACKEND]: ReleaseBackend }) {}

  async apply(request: ReleaseApplyRequest): Promise<AppliedRevision> {
    return this.pick(request).apply(request);
  }

  async uninstall(request: ReleaseUninstallRequest): Promise<ReleaseUninstallResult> {
    return this.pick(request).uninstall(request);
  }

  async render(request: ReleaseRenderRequest): Promise<string> {
    return this.pick(request).render(request);
  }

  async readDeployedManifest(ref: ReleaseRef, options?: { fresh?: boolean }): Promise<string | undefined> {
    return this.pick(ref).readDeployedManifest(ref, options);
  }

  async driftReports(ref: ReleaseRef, since: Date): Promise<BackendDriftReport[]> {
    const backend = this.pick(ref);
    return backend.driftReports ? backend.driftReports(ref, since) : [];
  }

  async hold(ref: ReleaseRef): Promise<boolean> {
    const backend = this.pick(ref);
    return backend.hold ? backend.hold(ref) : false;
  }

  private pick(ref: ReleaseRef): ReleaseBackend {
    const name = ref.backend ?? DEFAULT_BACKEND;
    const backend = Object.hasOwn(this.backends, name) ? this.backends[name] : undefined;
    // Not retried: the template names the same backend on every attempt.
    if (!backend)
      throw invalidInput(
        `release backend "${name}" is not available on this worker (it has: ${Object.keys(this.backends)
          .filter((k) => this.backends[k])
          .join(', ')})`,
      );
    return backend;
  }
}
