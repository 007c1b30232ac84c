import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { DEPLOYMENT_STATUSES } from '../../../../libs/persistence/src';
import { IsOptionalNotNull, RawJson } from '../http/validation';

export class CreateDeploymentDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId: string;

  @ApiProperty({ example: 'ada.apps.example.com' })
  @IsString()
  @MaxLength(253)
  domainName: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'User values, validated against the template schema under `user`' })
  @IsOptionalNotNull()
  @IsObject()
  @RawJson()
  values?: Record<string, unknown>;
}

export class UpdateDeploymentDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The complete user values. A secret sent back as "[redacted]" keeps its stored value.' })
  @IsObject()
  @RawJson()
  values: Record<string, unknown>;
}

export class UpgradeDeploymentDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId: string;
}

export class UpgradeQueryDto {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Preview only: validate and diff the rendered manifests, change nothing (200 with an UpgradePreview)' })
  @IsOptional()
  // Query strings are text: only the literal words are booleans, anything else fails @IsBoolean.
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'dryRun must be true or false' })
  dryRun?: boolean;
}

export class SuspendDeploymentDto {
  @ApiPropertyOptional({ maxLength: 300, description: 'Why, for the timeline and the deployment (shown as suspendedReason)', example: 'database migration until 18:00' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(300)
  reason?: string;
}

export class FieldProblemResponse {
  @ApiProperty() field: string;
  @ApiProperty() message: string;
}

export class TemplateRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() version: string;
}

export class UpgradePreviewResponse {
  @ApiProperty({ description: 'Whether the upgrade itself would be accepted' }) valid: boolean;
  @ApiProperty({ type: [FieldProblemResponse], description: 'Why it would be refused (the same rules as the upgrade: same product, forward only, allowFrom, values valid against the target schema)' })
  problems: FieldProblemResponse[];
  @ApiProperty({ description: 'A one-line summary: the reason for a refusal, a rendering failure, or what changes' }) message: string;
  @ApiProperty({ description: 'Current generation, for If-Match on the upgrade' }) generation: number;
  @ApiProperty({ type: TemplateRef, nullable: true, description: 'The applied template the diff starts from; null before the first apply' })
  fromTemplate: TemplateRef | null;
  @ApiProperty({ type: TemplateRef }) toTemplate: TemplateRef;
  @ApiProperty({ description: 'False when the upgrade is not valid or the charts could not be rendered' }) rendered: boolean;
  @ApiProperty({ description: 'Unified diff of the rendered manifests (helm template), object by object; Secret data masked' }) diff: string;
}

export class WorkflowLink {
  @ApiProperty() id: string;
  @ApiProperty() uiUrl: string;
}

export class HealthObjectResponse {
  @ApiProperty() kind: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['healthy', 'progressing', 'unhealthy'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
}

export class HealthResponse {
  @ApiProperty({
    enum: ['healthy', 'progressing', 'unhealthy'],
    description: "The workloads' health: Deployments available, StatefulSets and DaemonSets ready, Jobs complete, PVCs bound, no crash loop",
  })
  status: string;
  @ApiProperty({ nullable: true, type: String, description: 'The worst object and why, e.g. "Deployment/web: 0 of 1 replicas available"; null when healthy' }) reason: string | null;
  @ApiProperty({ description: 'The generation whose release was assessed' }) generation: number;
  @ApiProperty({ description: 'When the worker first saw this status at this generation' }) since: string;
  @ApiProperty({ type: [HealthObjectResponse], description: 'The objects that are not healthy (at most 10)' }) objects: HealthObjectResponse[];
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
  // Documented as optional so that clients written before health assessments still compile.
  @ApiPropertyOptional({
    type: HealthResponse,
    nullable: true,
    description: 'The latest health assessment of the workloads (null before the first). A ready deployment unhealthy for longer than the grace (CAELUS_HEALTH_GRACE) is degraded',
  })
  health: HealthResponse | null;
  // Always sent; documented as optional so that clients written before suspension still compile.
  @ApiPropertyOptional({ description: 'Suspended: values and upgrades are accepted and wait, nothing is applied, drift is recorded but not corrected, until resumed' })
  suspended: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) suspendedAt: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The reason given with the suspend request' }) suspendedReason: string | null;
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
