import { DeploymentStateService, DesiredState } from '../../../domain/src';
import type { DriftSummary } from '../../../persistence/src';
import {
  ConfinementError,
  correctDrift,
  detectDrift,
  DriftKube,
  DriftMemo,
  KubeClient,
  KubeError,
  KubeObject,
  ManifestReview,
  MetadataCache,
  ObjectRef,
  ReleaseStorageError,
  TenantClients,
} from '../../../platform/src';
import { classified } from './activity-errors';
import { backendOf } from './release-backends';
import { DeploymentMetrics, reportMetric } from './metrics.port';
import type { ReleaseBackend } from './release-backend.port';
import { DesiredSummary, loadOrNull, summarize } from './state.activities';
import { createHealthCheck, HealthCheck, HealthReport } from './health.activities';
import { LRUCache } from 'lru-cache';

export interface DriftActivityDeps {
  kube: KubeClient;
  /** Where the deployed manifest comes from (read in-process, no helm process). */
  releases: ReleaseBackend;
  state: DeploymentStateService;
  metrics: DeploymentMetrics;
  driftIntervalSeconds: number;
  /**
   * Watch-fed metadata of release objects and release Secrets: a steady check then reads
   * nothing from the API server. Left out, every check lists and reads (7 requests for the
   * example chart).
   */
  cache?: MetadataCache;
  /**
   * The tenant's impersonating clients: drift reads and corrections in a tenant namespace act as
   * its ServiceAccount. Left out, they use `kube` (tests only).
   */
  tenants?: TenantClients;
  /** Checks the deployed manifest before anything of it is compared or re-applied; left out in tests only. */
  confinement?: ManifestReview;
  /** When set (> 0), each tick also assesses the workloads' health; see health.activities.ts. */
  healthGraceSeconds?: number;
  /** The health check shared with the health activities (made here when left out). */
  healthCheck?: HealthCheck;
}

export interface DriftCheckResult {
  /** No deployed release was found: the workflow re-applies instead. */
  releaseMissing: boolean;
  drifted: number;
  corrected: number;
}

/** What one drift timer tick found: the desired state as loaded, and the check if one ran. */
export interface DriftTickResult {
  /** Null when the deployment row no longer exists. */
  desired: DesiredSummary | null;
  /** Absent when no check ran: the row is being deleted or its generation moved on (the workflow reconciles instead). */
  drift?: DriftCheckResult;
  /** The workloads' health, when the worker assesses it and it could be read (absent while suspended). */
  health?: HealthReport;
}

/** Drift memos kept per release; bounded so that deleted deployments do not accumulate. */
const MAX_MEMOS = 10_000;

/**
 * Kinds whose status follows their pods' (a controller's ready counts and conditions, a claim's
 * phase, a pod's own status): while none of a release's objects of these kinds changed, a healthy
 * assessment of it still holds. A CronJob's pods belong to Jobs the release does not name, so a
 * release with one is always listed.
 */
const STATUS_CARRIERS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'PersistentVolumeClaim', 'Pod']);
/** A healthy assessment taken from the watch is re-read from the API server at least this often. */
export const HEALTH_RELIST_MS = 6 * 60 * 60_000;

/**
 * The resourceVersions of the release's status-carrying objects, as the watch cache has them;
 * undefined when the cache cannot tell for one of them, or the release has a CronJob.
 */
export function workloadFingerprint(objects: readonly KubeObject[] | undefined, cache: Pick<MetadataCache, 'resourceVersionOf'> | undefined, namespace: string): string | undefined {
  if (!cache || !objects) return undefined;
  const parts: string[] = [];
  for (const o of objects) {
    if (o.kind === 'CronJob') return undefined;
    if (!STATUS_CARRIERS.has(o.kind)) continue;
    const resourceVersion = cache.resourceVersionOf({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? namespace });
    if (resourceVersion === undefined) return undefined;
    parts.push(`${o.kind}/${o.metadata.name}@${resourceVersion}`);
  }
  return parts.join(',');
}

export function createDriftActivities({ kube, releases, state, metrics, driftIntervalSeconds, cache, tenants, confinement, healthGraceSeconds, healthCheck }: DriftActivityDeps) {
  const assessHealth = healthGraceSeconds ? (healthCheck ?? createHealthCheck({ kube, tenants, state })) : undefined;
  // Per release: the manifest last checked and what detectDrift remembered about it (parsed
  // objects, resourceVersions found clean), and whether it passed the confinement check. A new
  // revision's manifest starts a fresh memo.
  const memos = new LRUCache<string, { manifest: string; memo: DriftMemo; refused?: ConfinementError; reviewed?: boolean }>({ max: MAX_MEMOS });
  // Per release, the last healthy assessment read from the API server: the generation, the
  // fingerprint of its status-carrying objects then, and when. A tick that finds the same
  // fingerprint in the watch cache keeps it instead of listing the namespace's workloads again.
  const healthyAt = new LRUCache<string, { generation: number; fingerprint: string; at: number }>({ max: MAX_MEMOS });
  const entryFor = (release: string, manifest: string) => {
    let entry = memos.get(release);
    if (!entry || entry.manifest !== manifest) memos.set(release, (entry = { manifest, memo: { clean: new Map() } }));
    return entry;
  };
  /** The client that acts in a tenant namespace: its ServiceAccount, when impersonation is on. */
  const kubeIn = (namespace: string): KubeClient => tenants?.for(namespace) ?? kube;
  // Reads go to the cache first, to the API server when it cannot tell.
  const cachedIn = (k: KubeClient): DriftKube =>
    cache
      ? {
          get: (ref) => k.get(ref),
          apply: (obj, options) => k.apply(obj, options),
          isNamespaced: (apiVersion, kind) => k.isNamespaced(apiVersion, kind),
          getMetadata: async (ref: ObjectRef) => {
            const resourceVersion = cache.resourceVersionOf(ref);
            if (resourceVersion === undefined) return k.getMetadata(ref);
            return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace, resourceVersion } };
          },
        }
      : k;

  /**
   * The deployed manifest and the drift found against it; `fresh` reads everything from the API
   * server. A manifest that breaks confinement is neither compared nor corrected (ConfinementError).
   */
  const inspect = async (release: string, fresh: boolean, backend: string | undefined) => {
    const manifest = await releases.readDeployedManifest({ release, namespace: release, backend }, { fresh });
    if (manifest === undefined) return { manifest, report: undefined, refused: undefined };
    const entry = entryFor(release, manifest);
    if (confinement && !entry.reviewed) {
      entry.refused = await confinement.review(manifest, release, 'deployed release manifest').then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof ConfinementError) return err;
          throw err;
        },
      );
      entry.reviewed = true;
      // Reported once per manifest; later ticks fail quietly with the same error.
      if (entry.refused) return { manifest, report: undefined, refused: entry.refused, firstRefusal: true };
    }
    if (entry.refused) return { manifest, report: undefined, refused: entry.refused };
    const memo = entry.memo;
    const parsedBefore = memo.objects !== undefined;
    const k = kubeIn(release);
    const report = await detectDrift(fresh ? k : cachedIn(k), manifest, { namespace: release, releaseName: release, memo });
    // Watch a new manifest's kinds from its first check on: the next check reads them from the cache.
    if (cache && !parsedBefore) for (const obj of memo.objects ?? []) cache.prime(obj.apiVersion, obj.kind);
    return { manifest, report, refused: undefined };
  };

  /** The check itself, on a deployment already loaded. */
  // The last untrusted-storage error recorded per release, so a tampered Secret is reported once, not every tick.
  const storageErrors = new LRUCache<string, string>({ max: MAX_MEMOS });
  const inspectOrReport = async (d: DesiredState, generation: number, fresh: boolean) => {
    try {
      const inspected = await inspect(d.deploymentUid, fresh, backendOf(d));
      storageErrors.delete(d.deploymentUid);
      return inspected;
    } catch (err) {
      if (err instanceof ReleaseStorageError && storageErrors.get(d.deploymentUid) !== err.message) {
        storageErrors.set(d.deploymentUid, err.message);
        await state.appendEvent({ deploymentId: d.deploymentId, generation, type: 'error', actor: 'workflow', message: `drift check: ${err.message}`, data: { retryable: false } });
      }
      throw err;
    }
  };

  // Per release, the drift last reported while suspended: the same drift found tick after tick is one event, not one per tick.
  const suspendedDrift = new LRUCache<string, string>({ max: MAX_MEMOS });
  /** A suspended deployment's drift is recorded (summary, metric, an event when it changed) and left alone. */
  const recordSuspendedDrift = async (
    d: DesiredState,
    generation: number,
    { checkedAt, objects, found }: { checkedAt: string; objects: DriftSummary['objects']; found: string },
  ): Promise<DriftCheckResult> => {
    const signature = JSON.stringify(objects);
    if (suspendedDrift.get(d.deploymentUid) !== signature) {
      await state.appendEvent({
        deploymentId: d.deploymentId,
        generation,
        type: 'drift-detected',
        actor: 'workflow',
        message: `drift in ${found}; not corrected: the deployment is suspended`,
        data: { objects, corrected: false, suspended: true },
      });
      suspendedDrift.set(d.deploymentUid, signature);
    }
    await state.recordDriftCheck(d.deploymentId, generation, { checkedAt, drifted: true, objects });
    reportMetric(() => metrics.driftChecked({ product: d.productName, outcome: 'drifted', found: objects.map((o) => o.kind), corrected: [] }));
    return { releaseMissing: false, drifted: objects.length, corrected: 0 };
  };

  // Per release, the backend's own drift reports already recorded (keys), so a report is one event.
  const backendReported = new LRUCache<string, Set<string>>({ max: MAX_MEMOS });
  /**
   * Drift the release backend corrected by itself since the last recorded check (Flux's
   * helm-controller, on its own reconciles), as events of the deployment: who corrected what, and
   * what it could not. Informational: a failed read leaves them out, the check itself stands.
   */
  const recordBackendDrift = async (d: DesiredState, generation: number): Promise<void> => {
    if (!releases.driftReports || !backendOf(d)) return;
    const reports = await releases.driftReports({ release: d.deploymentUid, namespace: d.deploymentUid, backend: backendOf(d) }, d.lastDriftCheckAt ?? new Date(0)).catch(() => []);
    let seen = backendReported.get(d.deploymentUid);
    for (const r of reports) {
      if (seen?.has(r.key)) continue;
      const names = r.objects.map((o) => `${o.kind}/${o.name}`).join(', ') || 'the release';
      await state.appendEvent({
        deploymentId: d.deploymentId,
        generation,
        type: r.corrected ? 'drift-corrected' : 'drift-detected',
        actor: backendOf(d)!,
        message: r.corrected ? `${backendOf(d)} corrected drift in ${names}` : `${backendOf(d)} could not correct drift: ${r.summary}`,
        data: { objects: r.objects, corrected: r.corrected, by: backendOf(d), at: r.at.toISOString() },
      });
      if (!seen) backendReported.set(d.deploymentUid, (seen = new Set()));
      seen.add(r.key);
    }
  };

  /**
   * The check, and what a Forbidden to the tenant means: its RoleBinding or ServiceAccount, or the
   * whole namespace, was removed by hand. Postgres still wants the deployment, so it is re-applied:
   * the apply puts the namespace's guard rails back before helm runs.
   */
  const check = async (d: DesiredState, generation: number, fresh = false): Promise<DriftCheckResult> => {
    try {
      await recordBackendDrift(d, generation);
      return await checkAsTenant(d, generation, fresh);
    } catch (err) {
      if (!tenants || !(err instanceof KubeError) || err.status !== 403) throw err;
      await state.appendEvent({
        deploymentId: d.deploymentId,
        generation,
        type: 'drift-detected',
        actor: 'workflow',
        message: `the tenant ServiceAccount may not act in its namespace (its RoleBinding, ServiceAccount or namespace was removed): re-applying the namespace's guard rails and the release`,
        data: { objects: [], forbidden: err.message },
      });
      reportMetric(() => metrics.driftChecked({ product: d.productName, outcome: 'release-missing', found: [], corrected: [] }));
      return { releaseMissing: true, drifted: 0, corrected: 0 };
    }
  };

  const checkAsTenant = async (d: DesiredState, generation: number, fresh: boolean): Promise<DriftCheckResult> => {
    let inspected = await inspectOrReport(d, generation, fresh);
    // The cache lags the cluster by the watch's latency (more while a watch is stuck): before
    // acting on what it says (a missing release, drift to correct), read everything again from
    // the API server, so a stale cache can delay a correction but never cause a wrong one.
    if (cache && !fresh && !inspected.refused && (inspected.manifest === undefined || inspected.report?.drifted)) inspected = await inspectOrReport(d, generation, true);
    const { manifest, report, refused } = inspected;
    if (refused) {
      if ('firstRefusal' in inspected) {
        await state.appendEvent({
          deploymentId: d.deploymentId,
          generation,
          type: 'error',
          actor: 'workflow',
          message: `drift check: ${refused.message}`,
          data: { retryable: false, violations: refused.violations.map((v) => ({ rule: v.rule, kind: v.kind ?? null, name: v.name ?? null, namespace: v.namespace ?? null })) },
        });
      }
      throw refused;
    }
    const product = d.productName;
    if (manifest === undefined || report === undefined) {
      reportMetric(() => metrics.driftChecked({ product, outcome: 'release-missing', found: [], corrected: [] }));
      return { releaseMissing: true, drifted: 0, corrected: 0 };
    }
    const checkedAt = new Date().toISOString();
    const objects = report.objects.map((o) => ({ kind: o.kind, name: o.name, namespace: o.namespace, reason: o.reason, fields: o.fields }));
    if (!report.drifted) {
      suspendedDrift.delete(d.deploymentUid);
      await state.recordDriftCheck(d.deploymentId, generation, { checkedAt, drifted: false, objects: [] });
      reportMetric(() => metrics.driftChecked({ product, outcome: 'clean', found: [], corrected: [] }));
      return { releaseMissing: false, drifted: 0, corrected: 0 };
    }
    const found = objects.map((o) => `${o.kind}/${o.name}`).join(', ');
    if (d.suspended) return recordSuspendedDrift(d, generation, { checkedAt, objects, found });
    await state.appendEvent({
      deploymentId: d.deploymentId,
      generation,
      type: 'drift-detected',
      actor: 'workflow',
      message: `drift in ${found}`,
      data: { objects },
    });
    // Only objects of a manifest that passed the confinement check above, as the tenant.
    const correction = await correctDrift(kubeIn(d.deploymentUid), manifest, report, { namespace: d.deploymentUid, releaseName: d.deploymentUid });
    await state.appendEvent({
      deploymentId: d.deploymentId,
      generation,
      type: 'drift-corrected',
      actor: 'workflow',
      message: `re-applied ${correction.corrected.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
      data: { objects: correction.corrected.map((o) => ({ kind: o.kind, name: o.name, reason: o.reason })) },
    });
    await state.recordDriftCheck(d.deploymentId, generation, { checkedAt, drifted: true, objects });
    reportMetric(() => metrics.driftChecked({ product, outcome: 'drifted', found: objects.map((o) => o.kind), corrected: correction.corrected.map((o) => o.kind) }));
    return { releaseMissing: false, drifted: objects.length, corrected: correction.corrected.length };
  };
  return {
    /**
     * Compares the deployed release's manifest (read in-process from Helm's storage, no helm
     * process) with the live objects, re-applies what drifted and records both as events. On a
     * suspended deployment the drift is recorded and nothing is re-applied.
     */
    async checkDrift(input: { deploymentId: string; generation: number }): Promise<DriftCheckResult> {
      return classified('drift check', async () => check(await state.load(input.deploymentId), input.generation));
    },

    /**
     * One drift timer tick, run by the workflow as a local activity: loads the desired state (so
     * a change whose signal was lost is still seen at the next tick) and, when the deployment is
     * still at the generation the workflow applied and not being deleted, checks drift. One
     * database read and no extra activity task or workflow task per tick. `fresh` (a change the
     * cluster watcher saw) reads from the API server, not from this worker's watch cache, which
     * may not have seen the change yet.
     */
    async driftTick(input: { deploymentId: string; generation: number; fresh?: boolean }): Promise<DriftTickResult> {
      return classified('drift check', async () => {
        const d = await loadOrNull(state, input.deploymentId);
        if (!d) return { desired: null };
        const desired = summarize(d, driftIntervalSeconds, undefined, healthGraceSeconds);
        if (d.deleting || d.generation !== input.generation) return { desired };
        const drift = await check(d, input.generation, input.fresh === true);
        if (!assessHealth || d.suspended) return { desired, drift };
        // The kinds of the release's manifest, as the drift check parsed it: nothing else is listed.
        const objects = memos.get(d.deploymentUid)?.memo.objects;
        const kinds = objects ? new Set(objects.map((o) => o.kind)) : undefined;
        // Taken before the lists, so a change while they run shows as a different fingerprint next time.
        const fingerprint = workloadFingerprint(objects, cache, d.deploymentUid);
        const last = healthyAt.get(d.deploymentUid);
        // A tick the watcher caused (fresh) always lists: something in the release changed.
        if (!input.fresh && fingerprint !== undefined && last?.generation === input.generation && last.fingerprint === fingerprint && Date.now() - last.at < HEALTH_RELIST_MS) {
          return { desired, drift, health: { status: 'healthy', reason: null } };
        }
        // Health is a second opinion on the tick: a failed read leaves it out rather than failing the drift check.
        const health = await assessHealth({ deploymentId: d.deploymentId, deploymentUid: d.deploymentUid, generation: input.generation, kinds }).catch(() => undefined);
        if (health?.status === 'healthy' && fingerprint !== undefined) healthyAt.set(d.deploymentUid, { generation: input.generation, fingerprint, at: Date.now() });
        else healthyAt.delete(d.deploymentUid);
        return { desired, drift, ...(health ? { health } : {}) };
      });
    },
  };
}

export type DriftActivities = ReturnType<typeof createDriftActivities>;
