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

  /** The oldest event of one of `types` recorded for a generation after `afterGeneration`, if any. */
  firstAfterGeneration(deploymentId: string, types: readonly DeploymentEventType[], afterGeneration: number): Promise<DeploymentEventEntity | null> {
    return this.repo()
      .createQueryBuilder('e')
      .where('e.deployment_id = :deploymentId', { deploymentId })
      .andWhere('e.type IN (:...types)', { types })
      .andWhere('e.generation > :afterGeneration', { afterGeneration })
      .orderBy('e.id', 'ASC')
      .limit(1)
      .getOne();
  }

  /** Oldest first; the cursor is the id of the last event seen. */
  async list(deploymentId: string, limit: number, afterId?: string): Promise<{ items: DeploymentEventEntity[]; nextCursor: string | null }> {
    const qb = this.repo().createQueryBuilder('e').where('e.deployment_id = :deploymentId', { deploymentId });
    if (afterId) qb.andWhere('e.id > :afterId', { afterId });
    const rows = await qb
      .orderBy('e.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? String(items[items.length - 1].id) : null };
  }
}
