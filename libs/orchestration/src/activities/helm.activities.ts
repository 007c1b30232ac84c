import { conflict, DeploymentStateService } from '../../../domain/src';
import { ConfinementError, HelmError, HelmRunner, PENDING_STATUSES, ReleaseStorageError } from '../../../platform/src';
import { classified } from './activity-errors';
import { withHeartbeat } from './heartbeat';

export interface HelmActivityDeps {
  helm: HelmRunner;
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

export function createHelmActivities({ helm, state, helmTimeoutSeconds }: HelmActivityDeps) {
  return {
    /**
     * `helm upgrade --install --wait` of the desired template with the merged values. A release
     * left pending by a killed worker is unlocked first; a failed upgrade is rolled back to the
     * last deployed revision. Values are read here from Postgres and never leave the activity.
     */
    async applyRelease(input: { deploymentId: string }): Promise<AppliedRelease> {
      return classified('helm upgrade', async () => {
        const { d, generation, values } = await desiredWithValues(state, input.deploymentId);
        const release = d.deploymentUid;
        const namespace = d.deploymentUid;
        return withHeartbeat(async (beat, signal) => {
          const unlock = await helm.unlockPending(release, namespace);
          if (unlock.unlocked) {
            await state.appendEvent({
              deploymentId: d.deploymentId,
              generation,
              type: 'unlocked',
              actor: 'workflow',
              message: `release revision ${unlock.revision} was stuck in ${unlock.previousStatus}; marked failed to unlock it`,
              data: { revision: unlock.revision ?? null, previousStatus: unlock.previousStatus ?? null },
            });
          }
          // The newest revision as unlockPending just read it from Helm's storage: what `helm status`
          // would say, without starting a helm process for it.
          const before = unlock.revision === undefined ? undefined : { revision: unlock.revision, status: unlock.unlocked ? 'failed' : unlock.previousStatus };
          beat(`helm upgrade --install ${release} (${d.template.version})`);
          let rel: Awaited<ReturnType<HelmRunner['upgradeInstall']>>;
          try {
            rel = await helm.upgradeInstall({
              release,
              namespace,
              chart: { ref: d.template.chartRef, version: d.template.chartVersion, ...(d.template.chartDigest ? { digest: d.template.chartDigest } : {}) },
              values,
              timeoutSeconds: helmTimeoutSeconds,
              description: `caelus generation ${generation}, template ${d.template.version}`,
              signal,
              onProgress: (line) => beat(line),
              owner: d.userId,
            });
          } catch (err) {
            await rollBackIfNeeded(err, before?.status === 'deployed' || before?.status === 'superseded' ? before.revision : undefined);
            throw err;
          }
          const unrecorded = unrecordedRelease(rel, await helm.latestStored(release, namespace));
          if (unrecorded) throw unrecorded;
          return { generation, templateId: d.template.id, templateVersion: d.template.version, revision: rel.revision, unlocked: unlock.unlocked, rolledBack: false };

          async function rollBackIfNeeded(err: unknown, lastGood: number | undefined): Promise<void> {
            // A confinement refusal applied nothing: there is nothing to roll back.
            if (lastGood === undefined || err instanceof ConfinementError || (err instanceof HelmError && (err.kind === 'invalid-values' || err.kind === 'chart-not-found'))) return;
            const now = await helm.status(release, namespace).catch(() => undefined);
            if (!now || now.revision <= lastGood || now.status === 'deployed') return;
            beat(`rolling back ${release} to revision ${lastGood}`);
            await helm.rollback(release, namespace, lastGood, { timeoutSeconds: helmTimeoutSeconds, signal, owner: d.userId });
            await state.appendEvent({
              deploymentId: d.deploymentId,
              generation,
              type: 'rolled-back',
              actor: 'workflow',
              message: `upgrade to revision ${now.revision} failed; rolled back to revision ${lastGood}`,
              data: { failedRevision: now.revision, revision: lastGood },
            });
          }
        });
      });
    },

    /**
     * `helm uninstall --wait`; a release that is already gone is fine. A stored release that
     * breaks confinement (or is not one helm wrote) is not uninstalled by helm, which would delete
     * and run hooks outside the namespace: it is recorded, and deleting the namespace next removes
     * everything that is the tenant's, release records included.
     */
    async uninstallRelease(input: { deploymentId: string }): Promise<{ uninstalled: boolean; kept: string[] }> {
      return classified('helm uninstall', async () => {
        const d = await state.load(input.deploymentId);
        return withHeartbeat(async (_beat, signal) => {
          try {
            await helm.unlockPending(d.deploymentUid, d.deploymentUid);
            return await helm.uninstall(d.deploymentUid, d.deploymentUid, { wait: true, timeoutSeconds: helmTimeoutSeconds, signal, owner: d.userId });
          } catch (err) {
            if (!(err instanceof ConfinementError || err instanceof ReleaseStorageError)) throw err;
            await state.appendEvent({
              deploymentId: d.deploymentId,
              generation: d.generation,
              type: 'error',
              actor: 'workflow',
              message: `helm uninstall skipped, the namespace is deleted instead: ${err.message}`,
              data: { retryable: false },
            });
            return { uninstalled: false, kept: [] };
          }
        });
      });
    },
  };
}

export type HelmActivities = ReturnType<typeof createHelmActivities>;

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
    const { generation, values } = await state.renderValues(deploymentId);
    if (generation === d.generation) return { d, generation, values };
  }
  // Retryable: the activity's backoff gives the writers time to settle.
  throw conflict(`deployment ${deploymentId} kept changing while its desired state was read`);
}
