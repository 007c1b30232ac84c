import type { KubeObject } from '../kubernetes/kube.types';

/** What helm-controller reported about the drift it found and corrected on its own reconcile. */
export interface FluxDriftReport {
  /** When it happened (the Kubernetes Event's last occurrence). */
  at: Date;
  /** False: helm-controller found drift and could not (fully) correct it. */
  corrected: boolean;
  /** The objects it re-applied: `missing` ones it created again, `modified` ones it configured back. */
  objects: { kind: string; name: string; reason: 'missing' | 'modified' }[];
  /** The first line of helm-controller's message (object names only; Flux masks Secret data). */
  summary: string;
  /** The Event's uid and count: one report per occurrence. */
  key: string;
}

/** helm-controller's Event reasons for drift it handled (internal/reconcile/correct_cluster_drift.go). */
export const FLUX_DRIFT_REASONS = { corrected: 'DriftCorrected', failed: 'DriftCorrectionFailed' } as const;

interface EventFields {
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  series?: { lastObservedTime?: string };
}

// One line per change set entry: `<Kind>/<namespace>/<name> <action>` (fluxcd/pkg/ssa).
const ENTRY = /^([A-Za-z0-9]+)\/(?:[^/\s]+\/)?([^/\s]+) (created|configured)$/;

/**
 * The drift corrections of a HelmRelease reported since `since`, oldest first, read from the
 * core/v1 Events helm-controller records on it. Event times have second precision: `since` is
 * taken down to its second, and the caller drops reports it already handled by `key`.
 */
export function fluxDriftReports(events: readonly KubeObject[], since: Date): FluxDriftReport[] {
  const from = Math.floor(since.getTime() / 1000) * 1000;
  const reports: FluxDriftReport[] = [];
  for (const event of events) {
    const e = event as KubeObject & EventFields;
    if (e.reason !== FLUX_DRIFT_REASONS.corrected && e.reason !== FLUX_DRIFT_REASONS.failed) continue;
    const when = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? (event.metadata.creationTimestamp as string | undefined);
    const at = when ? new Date(when) : undefined;
    if (!at || Number.isNaN(at.getTime()) || at.getTime() < from) continue;
    const lines = (e.message ?? '').split('\n').map((l) => l.trim());
    const objects = lines.flatMap((line) => {
      const m = ENTRY.exec(line);
      return m ? [{ kind: m[1], name: m[2], reason: m[3] === 'created' ? ('missing' as const) : ('modified' as const) }] : [];
    });
    reports.push({ at, corrected: e.reason === FLUX_DRIFT_REASONS.corrected, objects, summary: lines[0] ?? '', key: `${event.metadata.uid ?? event.metadata.name}#${e.count ?? 1}` });
  }
  return reports.sort((a, b) => a.at.getTime() - b.at.getTime());
}
