/**
 * Health of a release's workloads, with the usual rules (those of kstatus, the library behind
 * `kubectl rollout status`-like checks in Flux and Argo CD): Deployments available at their current
 * revision, StatefulSets and DaemonSets ready, Jobs complete, PVCs bound, pods not crash-looping.
 * `assessObject` and `summarizeHealth` are pure; `assessNamespaceHealth` reads the objects.
 */
import type { KubeObject } from './kube.types';

export type HealthStatus = 'healthy' | 'progressing' | 'unhealthy';

export interface ObjectHealth {
  kind: string;
  name: string;
  status: HealthStatus;
  /** Why it is not healthy; null when healthy. */
  reason: string | null;
}

export interface HealthAssessment {
  status: HealthStatus;
  /** The first unhealthy (else progressing) object and why, e.g. `Deployment/web: 0 of 1 replicas available`; null when healthy. */
  reason: string | null;
  /** The objects that are not healthy, worst first (at most MAX_REPORTED_OBJECTS). */
  objects: ObjectHealth[];
}

/** Container waiting reasons that do not heal without a change (or only by luck). */
export const CRASH_WAITING_REASONS = ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'];
/** A container that restarted this often, the last time within RESTART_WINDOW_MS, is crash-looping. */
export const RESTART_THRESHOLD = 3;
export const RESTART_WINDOW_MS = 10 * 60_000;
export const MAX_REPORTED_OBJECTS = 10;

/** The kinds assessed, and where to list them. */
export const HEALTH_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'v1', kind: 'Pod' },
] as const;

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
interface ContainerStatus {
  name?: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { finishedAt?: string; exitCode?: number; reason?: string } };
}
type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);
const conditionsOf = (o: Obj): Condition[] => (Array.isArray(o.status?.conditions) ? (o.status.conditions as Condition[]) : []);
const condition = (o: Obj, type: string): Condition | undefined => conditionsOf(o).find((c) => c.type === type);
const isTrue = (o: Obj, type: string) => condition(o, type)?.status === 'True';

/** The object's health; `now` (ms) dates recent restarts. Kinds it does not know are healthy. */
export function assessObject(obj: KubeObject, now: number): ObjectHealth {
  const o = obj as Obj;
  const result = (status: HealthStatus, reason: string | null = null): ObjectHealth => ({ kind: o.kind, name: o.metadata.name, status, reason });
  const notObserved = num(o.status?.observedGeneration, -1) < num(o.metadata.generation, 0);
  switch (o.kind) {
    case 'Deployment': {
      if (o.spec?.paused === true) return result('healthy');
      if (notObserved) return result('progressing', 'the new revision is not yet observed');
      const progressing = condition(o, 'Progressing');
      if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') return result('unhealthy', `progress deadline exceeded: ${progressing.message ?? ''}`.trim());
      const desired = num(o.spec?.replicas, 1);
      const updated = num(o.status?.updatedReplicas);
      const available = num(o.status?.availableReplicas);
      if (updated < desired) return result('progressing', `${updated} of ${desired} replicas updated`);
      if (num(o.status?.replicas) > updated) return result('progressing', `${num(o.status?.replicas) - updated} old replicas pending termination`);
      if (available < desired) return result('progressing', `${available} of ${desired} replicas available`);
      if (condition(o, 'Available')?.status === 'False') return result('progressing', 'not Available');
      return result('healthy');
    }
    case 'StatefulSet': {
      if (notObserved) return result('progressing', 'the new revision is not yet observed');
      const desired = num(o.spec?.replicas, 1);
      const ready = num(o.status?.readyReplicas);
      if (ready < desired) return result('progressing', `${ready} of ${desired} replicas ready`);
      const strategy = o.spec?.updateStrategy as { type?: string; rollingUpdate?: { partition?: number } } | undefined;
      const partitioned = num(strategy?.rollingUpdate?.partition) > 0;
      if ((strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && !partitioned) {
        if (num(o.status?.updatedReplicas) < desired) return result('progressing', `${num(o.status?.updatedReplicas)} of ${desired} replicas updated`);
        if (o.status?.updateRevision && o.status.currentRevision !== o.status.updateRevision) return result('progressing', 'the rollout of the new revision is not finished');
      }
      return result('healthy');
    }
    case 'DaemonSet': {
      if (notObserved) return result('progressing', 'the new revision is not yet observed');
      const desired = num(o.status?.desiredNumberScheduled);
      const updated = num(o.status?.updatedNumberScheduled);
      const available = num(o.status?.numberAvailable);
      if (updated < desired) return result('progressing', `${updated} of ${desired} pods updated`);
      if (available < desired) return result('progressing', `${available} of ${desired} pods available`);
      return result('healthy');
    }
    case 'Job': {
      const failed = condition(o, 'Failed');
      if (failed?.status === 'True') return result('unhealthy', `failed: ${failed.reason ?? ''}${failed.message ? ` (${failed.message})` : ''}`.trim());
      if (isTrue(o, 'Complete') || isTrue(o, 'SuccessCriteriaMet')) return result('healthy');
      return result('progressing', 'not complete');
    }
    case 'PersistentVolumeClaim': {
      const phase = o.status?.phase as string | undefined;
      if (phase === 'Bound') return result('healthy');
      if (phase === 'Lost') return result('unhealthy', 'its volume is lost');
      return result('progressing', `not bound (${phase ?? 'Pending'})`);
    }
    case 'Pod':
      return assessPod(o, now, result);
    default:
      return result('healthy');
  }
}

/**
 * Pods: only crash loops and scheduling are judged here; whether enough of them are ready is
 * their controller's to say. Finished pods (a Job's, an evicted one) are their controller's too.
 */
function assessPod(o: Obj, now: number, result: (status: HealthStatus, reason?: string | null) => ObjectHealth): ObjectHealth {
  const phase = o.status?.phase as string | undefined;
  if (o.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return result('healthy');
  const statuses = [...((o.status?.initContainerStatuses as ContainerStatus[] | undefined) ?? []), ...((o.status?.containerStatuses as ContainerStatus[] | undefined) ?? [])];
  for (const c of statuses) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && CRASH_WAITING_REASONS.includes(waiting)) return result('unhealthy', `container ${c.name ?? '?'} is in ${waiting}`);
  }
  for (const c of statuses) {
    const last = c.lastState?.terminated;
    const finishedAt = last?.finishedAt ? Date.parse(last.finishedAt) : NaN;
    if (num(c.restartCount) >= RESTART_THRESHOLD && now - finishedAt <= RESTART_WINDOW_MS) {
      return result('unhealthy', `container ${c.name ?? '?'} restarted ${num(c.restartCount)} times (last exit ${last?.exitCode ?? '?'}${last?.reason ? `, ${last.reason}` : ''})`);
    }
  }
  const scheduled = condition(o, 'PodScheduled');
  if (scheduled?.status === 'False') return result('progressing', `not scheduled${scheduled.reason ? ` (${scheduled.reason})` : ''}`);
  return result('healthy');
}

const RANK: Record<HealthStatus, number> = { healthy: 0, progressing: 1, unhealthy: 2 };

/** The worst of the objects' health; the reason names the worst object first. */
export function summarizeHealth(results: readonly ObjectHealth[]): HealthAssessment {
  const bad = results.filter((r) => r.status !== 'healthy').sort((a, b) => RANK[b.status] - RANK[a.status]);
  if (!bad.length) return { status: 'healthy', reason: null, objects: [] };
  const first = bad[0];
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : '';
  return { status: first.status, reason: `${first.kind}/${first.name}: ${first.reason ?? first.status}${more}`, objects: bad.slice(0, MAX_REPORTED_OBJECTS) };
}

/** What the assessment reads: lists in one namespace. */
export interface HealthReader {
  list(apiVersion: string, kind: string, options: { namespace: string }): Promise<KubeObject[]>;
}

/**
 * Assesses the workloads in a release's namespace (one namespace per release, so everything in it
 * is the release's or made by its controllers). `kinds` narrows the lists to the kinds the
 * release's manifest has (pods are listed when it has any workload).
 */
export async function assessNamespaceHealth(kube: HealthReader, namespace: string, options: { kinds?: ReadonlySet<string>; now?: number } = {}): Promise<HealthAssessment> {
  const { kinds } = options;
  const hasWorkload = !kinds || ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod', 'ReplicaSet', 'CronJob'].some((k) => kinds.has(k));
  const listed = HEALTH_KINDS.filter(({ kind }) => (kind === 'Pod' ? hasWorkload : !kinds || kinds.has(kind)));
  const lists = await Promise.all(listed.map(({ apiVersion, kind }) => kube.list(apiVersion, kind, { namespace })));
  const now = options.now ?? Date.now();
  return summarizeHealth(lists.flat().map((o) => assessObject(o, now)));
}
