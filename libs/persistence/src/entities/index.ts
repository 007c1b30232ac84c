export * from './user.entity';
export * from './product.entity';
export * from './template-version.entity';
export * from './deployment.entity';
export * from './deployment-event.entity';
export * from './rollout.entity';
import { UserEntity } from './user.entity';
import { ProductEntity } from './product.entity';
import { TemplateVersionEntity } from './template-version.entity';
import { DeploymentEntity } from './deployment.entity';
import { DeploymentEventEntity } from './deployment-event.entity';
import { RolloutEntity } from './rollout.entity';

export const ENTITIES = [UserEntity, ProductEntity, TemplateVersionEntity, DeploymentEntity, DeploymentEventEntity, RolloutEntity];
