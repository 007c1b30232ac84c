import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const DEPLOYMENT_EVENT_TYPES = [
  'created',
  'values-updated',
  'upgrade-requested',
  'upgrade-rejected',
  'delete-requested',
  'reconcile-started',
  'applied',
  'error',
  'drift-detected',
  'drift-corrected',
  'unlocked',
  'rolled-back',
  'suspended',
  'resumed',
  'degraded',
  'recovered',
  'deleted',
  'rollout-skipped',
  'rollout-upgraded',
  'rollout-failed',
] as const;
export type DeploymentEventType = (typeof DEPLOYMENT_EVENT_TYPES)[number];

/** Append-only timeline. Never holds a secret value. */
@Entity({ name: 'deployment_events' })
export class DeploymentEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id: string;
  @Column({ name: 'deployment_id', type: 'uuid' }) deploymentId: string;
  @Column({ type: 'integer' }) generation: number;
  @Column({ type: 'text' }) type: DeploymentEventType;
  /** Who caused it: a user id, "admin", "workflow" or "signal". */
  @Column({ type: 'text' }) actor: string;
  @Column({ type: 'text' }) message: string;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) data: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
