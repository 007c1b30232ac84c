import { conflict, DeploymentStateService } from '../../../domain/src';
import { HelmError, KubeClient, KubeError } from '../../../platform/src';
import { classified } from './activity-errors';
import { withHeartbeat } from './heartbeat';
import type { ReleaseBackend } from './release-backend.port';
import { backendOf } from './release-backends';

export interface HelmActivityDeps {
  releases: ReleaseBackend;
  /** The worker's own client: the teardown asks it whether the namespace exists before acting as its tenant. */
  kube: Pick<KubeClient, 'getNamespace'>;
  state: DeploymentStateService;
  helmTimeoutSeconds: number;
}

export interface AppliedRelease {
  generation: number;
  templateId: string;
  templateVersion: string;
  revision: number;
  unlocked: boolean;
  rolledBack: boolean;
}

export function createHelmActivities({ releases, kube, state, helmTimeoutSeconds }: HelmActivityDeps) {
  return {
    /**
     * Installs or upgrades the release (`helm upgrade --install --wait`) with the desired
     * template and the merged values. A release left pending by a killed worker is unlocked
     * first; a failed upgrade is rolled back to the last deployed revision; both are recorded as
     * events. Values are read here from Postgres and never leave the activity.
     */
    async applyRelease(input: { deploymentId: string }): Promise<AppliedRelease> {
      return classified('helm upgrade', async () => {
        const { d, generation, values, secretPaths } = await desiredWithValues(state, input.deploymentId);
        const release = d.deploymentUid;
        const record = (type: 'unlocked' | 'rolled-back', message: string, data: Record<string, unknown>) =>
          state.appendEvent({ deploymentId: d.deploymentId, generation, type, actor: 'workflow', message, data });
        return withHeartbeat(async (beat, signal) => {
          beat(`helm upgrade --install ${release} (${d.template.version})`);
          const applied = await releases.apply({
            release,
            namespace: release,
            backend: backendOf(d),
            secretPaths,
            chart: { ref: d.template.chartRef, version: d.template.chartVersion, ...(d.template.chartDigest ? { digest: d.template.chartDigest } : {}) },
            values,
            timeoutSeconds: helmTimeoutSeconds,
            description: `caelus generation ${generation}, template ${d.template.version}`,
            signal,
            onProgress: (line) => beat(line),
            owner: d.userId,
            report: {
              unlocked: ({ revision, previousStatus }) =>
                record('unlocked', `release revision ${revision} was stuck in ${previousStatus}; marked failed to unlock it`, { revision: revision ?? null, previousStatus: previousStatus ?? null }),
              rolledBack: ({ failedRevision, revision }) => record('rolled-back', `upgrade to revision ${failedRevision} failed; rolled back to revision ${revision}`, { failedRevision, revision }),
            },
          });
          return { generation, templateId: d.template.id, templateVersion: d.template.version, revision: applied.revision, unlocked: applied.unlocked, rolledBack: false };
        });
      });
    },

    /**
     * `helm uninstall --wait`; a release that is already gone is fine. Nothing runs when the
     * namespace does not exist (a delete that came before the first apply) or is already being
     * deleted: the tenant ServiceAccount that helm acts as is not there, or is losing its
     * RoleBinding, so helm would only be refused. A stored release that breaks confinement (or is
     * not one helm wrote), or a tenant that may not act in its own namespace, is not uninstalled
     * by helm either: it is recorded, and deleting the namespace next removes everything that is
     * the tenant's, release records included.
     */
    async uninstallRelease(input: { deploymentId: string }): Promise<{ uninstalled: boolean; kept: string[] }> {
      return classified('helm uninstall', async () => {
        const d = await state.load(input.deploymentId);
        const namespace = await kube.getNamespace(d.deploymentUid);
        if (!namespace || namespace.metadata.deletionTimestamp) return { uninstalled: false, kept: [] };
        const skipped = async (reason: string) => {
          await state.appendEvent({
            deploymentId: d.deploymentId,
            generation: d.generation,
            type: 'error',
            actor: 'workflow',
            message: `helm uninstall skipped, the namespace is deleted instead: ${reason}`,
            data: { retryable: false },
          });
          return { uninstalled: false, kept: [] };
        };
        return withHeartbeat(async (_beat, signal) => {
          try {
            const result = await releases.uninstall({ release: d.deploymentUid, namespace: d.deploymentUid, backend: backendOf(d), timeoutSeconds: helmTimeoutSeconds, signal, owner: d.userId });
            return result.refused === undefined ? { uninstalled: result.uninstalled, kept: result.kept } : await skipped(result.refused);
          } catch (err) {
            if (!isForbidden(err)) throw err;
            return skipped(`the tenant ServiceAccount may not act in its namespace: ${(err as Error).message}`);
          }
        });
      });
    },

    /**
     * A suspended deployment's release is held by its backend too: Flux's helm-controller would
     * otherwise go on correcting drift and retrying on its own reconciles. Helm holds nothing.
     * Nothing is held once the deployment was resumed or is being deleted: an apply or the
     * uninstall comes next.
     */
    async holdRelease(input: { deploymentId: string }): Promise<{ held: boolean }> {
      return classified('hold release', async () => {
        const d = await state.load(input.deploymentId);
        if (!d.suspended || d.deleting || !backendOf(d) || !releases.hold) return { held: false };
        return { held: await releases.hold({ release: d.deploymentUid, namespace: d.deploymentUid, backend: backendOf(d) }) };
      });
    },
  };
}

/** The API server refused the tenant identity (its RoleBinding or ClusterRole is missing). */
function isForbidden(err: unknown): boolean {
  return (err instanceof KubeError && err.status === 403) || (err instanceof HelmError && err.kind === 'forbidden');
}

export type HelmActivities = ReturnType<typeof createHelmActivities>;

/**
 * The desired state (chart) and the values rendered for it, read at the same generation. They
 * are two reads, and a values update or an upgrade committed between them would otherwise
 * install one generation's chart with another's values and record it as the newer generation,
 * leaving the deployment "ready" on the wrong chart. Every change bumps the generation, so
 * equal generations mean one consistent state.
 */
export async function desiredWithValues(state: Pick<DeploymentStateService, 'load' | 'renderValues'>, deploymentId: string) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const d = await state.load(deploymentId);
    const { generation, values, secretPaths } = await state.renderValues(deploymentId);
    if (generation === d.generation) return { d, generation, values, secretPaths };
  }
  // Retryable: the activity's backoff gives the writers time to settle.
  throw conflict(`deployment ${deploymentId} kept changing while its desired state was read`);
}
