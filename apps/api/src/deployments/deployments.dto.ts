import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { DEPLOYMENT_STATUSES } from '../../../../libs/persistence/src';

export class CreateDeploymentDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId: string;

  @ApiProperty({ example: 'ada.apps.example.com' })
  @IsString()
  @MaxLength(253)
  domainName: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'User values, validated against the template schema under `user`' })
  @IsOptional()
  @IsObject()
  values?: Record<string, unknown>;
}

export class UpdateDeploymentDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The complete user values. A secret sent back as "[redacted]" keeps its stored value.' })
  @IsObject()
  values: Record<string, unknown>;
}

export class UpgradeDeploymentDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId: string;
}

export class WorkflowLink {
  @ApiProperty() id: string;
  @ApiProperty() uiUrl: string;
}

export class DeploymentResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() deploymentUid: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty({ format: 'uuid' }) desiredTemplateId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) appliedTemplateId: string | null;
  @ApiProperty() generation: number;
  @ApiProperty() observedGeneration: number;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty() domainName: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Secrets redacted' }) values: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) drift: unknown;
  @ApiProperty({ nullable: true, type: String }) lastReconcileAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastDriftCheckAt: string | null;
  @ApiProperty({ type: WorkflowLink }) workflow: WorkflowLink;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) deletedAt: string | null;
}

export class DeploymentPage {
  @ApiProperty({ type: [DeploymentResponse] }) items: DeploymentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class DeploymentEventResponse {
  @ApiProperty() id: string;
  @ApiProperty() generation: number;
  @ApiProperty() type: string;
  @ApiProperty() actor: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty() createdAt: string;
}

export class DeploymentEventPage {
  @ApiProperty({ type: [DeploymentEventResponse] }) items: DeploymentEventResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
