import { DeploymentStateService } from '../../../domain/src';
import { correctDrift, detectDrift, DriftMemo, HelmReleaseStorage, KubeClient } from '../../../platform/src';
import { classified } from './activity-errors';
import { DeploymentMetrics, reportMetric } from './metrics.port';

export interface DriftActivityDeps {
  kube: KubeClient;
  storage: HelmReleaseStorage;
  state: DeploymentStateService;
  metrics: DeploymentMetrics;
}

export interface DriftCheckResult {
  /** No deployed release was found: the workflow re-applies instead. */
  releaseMissing: boolean;
  drifted: number;
  corrected: number;
}

/** Drift memos kept per release; bounded so that deleted deployments do not accumulate. */
const MAX_MEMOS = 10_000;

export function createDriftActivities({ kube, storage, state, metrics }: DriftActivityDeps) {
  // Per release: the manifest last checked and what detectDrift remembered about it (parsed
  // objects, resourceVersions found clean). A new revision's manifest starts a fresh memo.
  const memos = new Map<string, { manifest: string; memo: DriftMemo }>();
  const memoFor = (release: string, manifest: string): DriftMemo => {
    let entry = memos.get(release);
    memos.delete(release);
    if (!entry || entry.manifest !== manifest) entry = { manifest, memo: { clean: new Map() } };
    memos.set(release, entry);
    if (memos.size > MAX_MEMOS) memos.delete(memos.keys().next().value!);
    return entry.memo;
  };
  return {
    /**
     * Compares the deployed release's manifest (read in-process from Helm's storage, no helm
     * process) with the live objects, re-applies what drifted and records both as events.
     */
    async checkDrift(input: { deploymentId: string; generation: number }): Promise<DriftCheckResult> {
      return classified('drift check', async () => {
        const d = await state.load(input.deploymentId);
        const manifest = await storage.readDeployedManifest(d.deploymentUid, d.deploymentUid);
        const product = d.productName;
        if (manifest === undefined) {
          reportMetric(() => metrics.driftChecked({ product, outcome: 'release-missing', found: [], corrected: [] }));
          return { releaseMissing: true, drifted: 0, corrected: 0 };
        }
        const report = await detectDrift(kube, manifest, { namespace: d.deploymentUid, releaseName: d.deploymentUid, memo: memoFor(d.deploymentUid, manifest) });
        const checkedAt = new Date().toISOString();
        const objects = report.objects.map((o) => ({ kind: o.kind, name: o.name, namespace: o.namespace, reason: o.reason, fields: o.fields }));
        if (!report.drifted) {
          await state.recordDriftCheck(d.deploymentId, input.generation, { checkedAt, drifted: false, objects: [] });
          reportMetric(() => metrics.driftChecked({ product, outcome: 'clean', found: [], corrected: [] }));
          return { releaseMissing: false, drifted: 0, corrected: 0 };
        }
        await state.appendEvent({
          deploymentId: d.deploymentId,
          generation: input.generation,
          type: 'drift-detected',
          actor: 'workflow',
          message: `drift in ${objects.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
          data: { objects },
        });
        const correction = await correctDrift(kube, manifest, report, { namespace: d.deploymentUid, releaseName: d.deploymentUid });
        await state.appendEvent({
          deploymentId: d.deploymentId,
          generation: input.generation,
          type: 'drift-corrected',
          actor: 'workflow',
          message: `re-applied ${correction.corrected.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
          data: { objects: correction.corrected.map((o) => ({ kind: o.kind, name: o.name, reason: o.reason })) },
        });
        await state.recordDriftCheck(d.deploymentId, input.generation, { checkedAt, drifted: true, objects });
        reportMetric(() =>
          metrics.driftChecked({ product, outcome: 'drifted', found: objects.map((o) => o.kind), corrected: correction.corrected.map((o) => o.kind) }),
        );
        return { releaseMissing: false, drifted: objects.length, corrected: correction.corrected.length };
      });
    },
  };
}

export type DriftActivities = ReturnType<typeof createDriftActivities>;
