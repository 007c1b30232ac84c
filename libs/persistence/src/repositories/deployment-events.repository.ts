import { DataSource, EntityManager } from 'typeorm';
import { DeploymentEventEntity, DeploymentEventType } from '../entities';

export interface NewDeploymentEvent {
  deploymentId: string;
  generation: number;
  type: DeploymentEventType;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

export class DeploymentEventsRepository {
  constructor(private readonly db: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.db.manager).getRepository(DeploymentEventEntity);
  }

  append(e: NewDeploymentEvent, m?: EntityManager): Promise<DeploymentEventEntity> {
    return this.repo(m).save(this.repo(m).create({ ...e, data: e.data ?? {} }));
  }

  /** Oldest first; the cursor is the id of the last event seen. */
  async list(deploymentId: string, limit: number, afterId?: string): Promise<{ items: DeploymentEventEntity[]; nextCursor: string | null }> {
    const qb = this.repo().createQueryBuilder('e').where('e.deployment_id = :deploymentId', { deploymentId });
    if (afterId) qb.andWhere('e.id > :afterId', { afterId });
    const rows = await qb.orderBy('e.id', 'ASC').limit(limit + 1).getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? String(items[items.length - 1].id) : null };
  }
}
