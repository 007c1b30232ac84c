import { classifyHelmOutput, HelmError } from '../helm/helm.errors';
import type { KubeObject } from '../kubernetes/kube.types';

/** A condition as Flux's controllers write them (metav1.Condition). */
export interface FluxCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** One release revision in a HelmRelease's status.history, newest first. */
export interface FluxSnapshot {
  version: number;
  status: string;
  chartVersion?: string;
}

interface FluxStatus {
  observedGeneration?: number;
  lastHandledReconcileAt?: string;
  conditions?: FluxCondition[];
  history?: FluxSnapshot[];
}

/** Where one apply stands, read from the HelmRelease (and its OCIRepository while the chart is not there). */
export type FluxOutcome =
  { state: 'pending'; detail: string } | { state: 'ready'; revision: number } | { state: 'failed'; error: HelmError; rolledBack?: { failedRevision: number; revision: number } };

const statusOf = (obj: KubeObject | undefined): FluxStatus => obj?.status ?? {};

export function conditionOf(obj: KubeObject | undefined, type: string): FluxCondition | undefined {
  return statusOf(obj).conditions?.find((c) => c.type === type);
}

/** The last deployed revision helm-controller recorded; undefined before the first release. */
export function deployedRevision(hr: KubeObject | undefined): number | undefined {
  return statusOf(hr).history?.find((s) => s.status === 'deployed')?.version;
}

/** The previous attempt ended in a failure Flux will not retry by itself (its retries are 0): the next apply forces one. */
export function needsForce(hr: KubeObject | undefined): boolean {
  if (!hr) return false;
  const ready = conditionOf(hr, 'Ready');
  return conditionOf(hr, 'Stalled')?.status === 'True' || (ready?.status === 'False' && ready.reason !== 'SourceNotReady');
}

/**
 * What the HelmRelease says about the apply that set `token` (its reconcile request): pending
 * until helm-controller handled that request for the current generation, then ready (with the
 * release revision) or failed (with Flux's message, scrubbed, as a HelmError of the kind the helm
 * backend would have thrown). A chart that is not there yet is pending, unless its OCIRepository
 * says the pull failed.
 */
export function readOutcome(hr: KubeObject | undefined, source: KubeObject | undefined, token: string, scrub: (text: string) => string = (t) => t): FluxOutcome {
  if (!hr) return { state: 'pending', detail: 'HelmRelease not found' };
  const status = statusOf(hr);
  const generation = hr.metadata.generation as number | undefined;
  const ready = conditionOf(hr, 'Ready');
  if (status.lastHandledReconcileAt !== token || !ready || (generation !== undefined && ready.observedGeneration !== generation)) {
    return { state: 'pending', detail: describe(conditionOf(hr, 'Reconciling') ?? ready, scrub) ?? 'waiting for helm-controller' };
  }
  if (ready.status === 'True') return { state: 'ready', revision: deployedRevision(hr) ?? 0 };
  if (ready.status === 'Unknown') return { state: 'pending', detail: describe(ready, scrub) ?? 'in progress' };
  if (ready.reason === 'SourceNotReady') {
    const pull = sourceFailure(source);
    if (!pull) return { state: 'pending', detail: describe(ready, scrub) ?? 'waiting for the chart' };
    return { state: 'failed', error: toHelmError(pull, 'pull', scrub) };
  }
  const error = toHelmError(ready.message ?? ready.reason ?? 'the release failed', actionOf(ready.reason), scrub);
  const remediated = conditionOf(hr, 'Remediated');
  const rolledBack = remediated?.status === 'True' && remediated.reason === 'RollbackSucceeded' ? rollbackOf(status.history ?? []) : undefined;
  return { state: 'failed', error, ...(rolledBack ? { rolledBack } : {}) };
}

/** The OCIRepository's pull failure, once source-controller reported one for its current generation. */
function sourceFailure(source: KubeObject | undefined): string | undefined {
  if (!source) return undefined;
  const ready = conditionOf(source, 'Ready');
  const generation = source.metadata.generation as number | undefined;
  if (!ready || ready.status !== 'False' || (generation !== undefined && ready.observedGeneration !== generation)) return undefined;
  const failed = conditionOf(source, 'FetchFailed')?.status === 'True' || conditionOf(source, 'Stalled')?.status === 'True';
  return failed ? (ready.message ?? ready.reason) : undefined;
}

/** After a rollback the history holds the rollback (deployed) and the failed upgrade before it. */
function rollbackOf(history: FluxSnapshot[]): { failedRevision: number; revision: number } | undefined {
  const deployed = history.find((s) => s.status === 'deployed');
  const failed = history.find((s) => s.status === 'failed');
  return deployed && failed ? { failedRevision: failed.version, revision: deployed.version } : undefined;
}

function actionOf(reason: string | undefined): string {
  if (!reason) return 'reconcile';
  const m = /^(Install|Upgrade|Rollback|Uninstall|Test)/.exec(reason);
  return m ? m[1].toLowerCase() : 'reconcile';
}

/**
 * Flux's message as the helm backend's error: the same kinds (bad values, missing chart,
 * forbidden are final; the rest is retried), since helm-controller runs the same helm library
 * and reports helm's own errors.
 */
export function toHelmError(message: string, operation: string, scrub: (text: string) => string = (t) => t): HelmError {
  const text = scrub(message).replace(/\s+/g, ' ').trim();
  return new HelmError(classifyHelmOutput(text), truncate(`flux: ${text}`), { operation });
}

function describe(c: FluxCondition | undefined, scrub: (text: string) => string): string | undefined {
  if (!c) return undefined;
  return truncate(scrub(`${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`.replace(/\s+/g, ' ').trim()), 200);
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
