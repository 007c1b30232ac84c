import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) email: string;
  @Column({ name: 'is_admin', type: 'boolean', default: false }) isAdmin: boolean;
  /** SHA-256 of the API token; the token itself is shown once and never stored. */
  @Column({ name: 'api_token_hash', type: 'text' }) apiTokenHash: string;
  /** Live deployments this user may own; null: the configured default applies. */
  @Column({ name: 'max_deployments', type: 'integer', nullable: true }) maxDeployments: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
}
