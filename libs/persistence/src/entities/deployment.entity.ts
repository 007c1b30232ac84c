import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const DEPLOYMENT_STATUSES = ['provisioning', 'ready', 'upgrading', 'degraded', 'error', 'deleting', 'deleted'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export interface DriftSummary {
  checkedAt: string;
  drifted: boolean;
  objects: { kind: string; name: string; namespace?: string; reason: string; fields: string[] }[];
}

/** The latest health assessment of a deployment's workloads (written when it changes). */
export interface HealthSummary {
  status: 'healthy' | 'progressing' | 'unhealthy';
  /** The worst object and why, e.g. `Deployment/web: 0 of 1 replicas available`; null when healthy. */
  reason: string | null;
  /** The generation whose release was assessed. */
  generation: number;
  /** When the worker first saw this status (and reason) at this generation. */
  since: string;
  objects: { kind: string; name: string; status: string; reason: string | null }[];
}

@Entity({ name: 'deployments' })
export class DeploymentEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  /** DNS label; also the namespace and the Helm release name. */
  @Column({ name: 'deployment_uid', type: 'text' }) deploymentUid: string;
  @Column({ name: 'domain_name', type: 'text' }) domainName: string;
  @Column({ name: 'desired_template_id', type: 'uuid' }) desiredTemplateId: string;
  @Column({ name: 'applied_template_id', type: 'uuid', nullable: true }) appliedTemplateId: string | null;
  /** User values; fields the schema marks x-caelus-secret are stored encrypted. */
  @Column({ name: 'user_values', type: 'jsonb', default: () => "'{}'::jsonb" }) userValues: Record<string, unknown>;
  @Column({ type: 'integer', default: 1 }) generation: number;
  @Column({ name: 'observed_generation', type: 'integer', default: 0 }) observedGeneration: number;
  @Column({ type: 'text', default: 'provisioning' }) status: DeploymentStatus;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'last_reconcile_at', type: 'timestamptz', nullable: true }) lastReconcileAt: Date | null;
  @Column({ name: 'last_drift_check_at', type: 'timestamptz', nullable: true }) lastDriftCheckAt: Date | null;
  @Column({ name: 'drift_summary', type: 'jsonb', nullable: true }) driftSummary: DriftSummary | null;
  @Column({ type: 'jsonb', nullable: true }) health: HealthSummary | null;
  /** Set while the deployment is suspended: the workflow neither applies nor corrects drift. */
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true }) suspendedAt: Date | null;
  @Column({ name: 'suspended_reason', type: 'text', nullable: true }) suspendedReason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
}
