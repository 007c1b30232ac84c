import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What installs a template's releases: the helm CLI in the worker, or Flux's helm-controller (docs/OPERATIONS.md). */
export const RELEASE_BACKENDS = ['helm', 'flux'] as const;
export type ReleaseBackendName = (typeof RELEASE_BACKENDS)[number];
export const DEFAULT_RELEASE_BACKEND: ReleaseBackendName = 'helm';

export interface TemplateCapabilities {
  quota?: Record<string, string>;
  limits?: {
    defaultRequest?: Record<string, string>;
    default?: Record<string, string>;
    max?: Record<string, string>;
  };
  upgradePolicy?: { allowFrom?: string };
  /** Left out: helm. Fixed for a deployment's life: an upgrade never moves it to another backend. */
  backend?: ReleaseBackendName;
}

/** Immutable once created: there is no update path for it anywhere. */
@Entity({ name: 'template_versions' })
export class TemplateVersionEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ type: 'text' }) version: string;
  @Column({ name: 'chart_ref', type: 'text' }) chartRef: string;
  @Column({ name: 'chart_version', type: 'text' }) chartVersion: string;
  @Column({ name: 'chart_digest', type: 'text', nullable: true }) chartDigest: string | null;
  @Column({ name: 'default_values', type: 'jsonb', default: () => "'{}'::jsonb" }) defaultValues: Record<string, unknown>;
  @Column({ name: 'values_schema', type: 'jsonb', nullable: true }) valuesSchema: Record<string, unknown> | null;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) capabilities: TemplateCapabilities;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
}
