import { RolloutApproval, RolloutEntity, RolloutEventRow, RolloutMemberState, RolloutStatus, WaveCountRow, WaveSpec } from '../../../persistence/src';
import { WorkflowRef } from '../ports';

export interface RolloutWaveView {
  /** 1-based, as shown to people. */
  wave: number;
  size: number;
  pending: number;
  upgrading: number;
  upgraded: number;
  failed: number;
  skipped: number;
}

export interface RolloutEventView {
  id: string;
  type: string;
  actor: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface RolloutView {
  id: string;
  productId: string;
  toTemplateId: string;
  fromTemplateIds: string[] | null;
  waves: WaveSpec[];
  maxFailures: number;
  healthTimeoutSeconds: number;
  pauseBetweenWavesSeconds: number;
  approval: RolloutApproval;
  status: RolloutStatus;
  reason: string | null;
  /** 1-based; null before the first wave starts. */
  currentWave: number | null;
  /** Deployments selected; null until the workflow made the selection. */
  total: number | null;
  waveCounts: RolloutWaveView[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  workflow: WorkflowRef;
  /** The newest events (only on the single-rollout read). */
  events?: RolloutEventView[];
}

const STATES: RolloutMemberState[] = ['pending', 'upgrading', 'upgraded', 'failed', 'skipped'];

/** One entry per planned wave (zeros for a wave nobody has reached), from the grouped member counts. */
export function toWaveViews(waveEnds: number[] | null, rows: WaveCountRow[]): RolloutWaveView[] {
  return (waveEnds ?? []).map((end, i) => {
    const counts = Object.fromEntries(STATES.map((s) => [s, rows.find((r) => r.wave === i && r.state === s)?.count ?? 0])) as Record<RolloutMemberState, number>;
    return { wave: i + 1, size: end - (i ? waveEnds![i - 1] : 0), ...counts };
  });
}

export function toRolloutView(r: RolloutEntity, counts: WaveCountRow[], workflow: WorkflowRef, events?: RolloutEventRow[]): RolloutView {
  return {
    id: r.id,
    productId: r.productId,
    toTemplateId: r.toTemplateId,
    fromTemplateIds: r.fromTemplateIds,
    waves: r.waves,
    maxFailures: r.maxFailures,
    healthTimeoutSeconds: r.healthTimeoutSeconds,
    pauseBetweenWavesSeconds: r.pauseBetweenWavesSeconds,
    approval: r.approval,
    status: r.status,
    reason: r.reason,
    currentWave: r.currentWave === null ? null : r.currentWave + 1,
    total: r.total,
    waveCounts: toWaveViews(r.waveEnds, counts),
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    workflow,
    ...(events ? { events: events.map((e) => ({ id: e.id, type: e.type, actor: e.actor, message: e.message, data: e.data, createdAt: new Date(e.createdAt).toISOString() })) } : {}),
  };
}
