import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const ROLLOUT_STATUSES = ['running', 'paused', 'succeeded', 'failed', 'aborted'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
/** Running or paused: the partial unique index allows one such rollout per product. */
export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = ['running', 'paused'];

export const ROLLOUT_MEMBER_STATES = ['pending', 'upgrading', 'upgraded', 'failed', 'skipped'] as const;
export type RolloutMemberState = (typeof ROLLOUT_MEMBER_STATES)[number];

export const ROLLOUT_APPROVALS = ['auto', 'manual'] as const;
export type RolloutApproval = (typeof ROLLOUT_APPROVALS)[number];

/** A wave as requested: a count of deployments, or a percentage of the selection ("10%"); cumulative. */
export type WaveSpec = number | string;

/** A fleet rollout of one product to one template version. Members and events live in their own tables. */
@Entity({ name: 'rollouts' })
export class RolloutEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ name: 'to_template_id', type: 'uuid' }) toTemplateId: string;
  /** Only deployments on one of these templates; null: every older version that may upgrade. */
  @Column({ name: 'from_template_ids', type: 'uuid', array: true, nullable: true }) fromTemplateIds: string[] | null;
  @Column({ type: 'jsonb' }) waves: WaveSpec[];
  /** Cumulative member counts at the end of each wave; null until the selection is made. */
  @Column({ name: 'wave_ends', type: 'integer', array: true, nullable: true }) waveEnds: number[] | null;
  /** How many deployments were selected; null until the selection is made. */
  @Column({ type: 'integer', nullable: true }) total: number | null;
  @Column({ name: 'max_failures', type: 'integer', default: 0 }) maxFailures: number;
  @Column({ name: 'health_timeout_seconds', type: 'integer' }) healthTimeoutSeconds: number;
  @Column({ name: 'pause_between_waves_seconds', type: 'integer', default: 0 }) pauseBetweenWavesSeconds: number;
  @Column({ type: 'text', default: 'auto' }) approval: RolloutApproval;
  @Column({ type: 'text', default: 'running' }) status: RolloutStatus;
  /** Zero-based index of the wave in progress (or last reached); null before the first. */
  @Column({ name: 'current_wave', type: 'integer', nullable: true }) currentWave: number | null;
  /** Why the rollout stopped or is paused. */
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
}
