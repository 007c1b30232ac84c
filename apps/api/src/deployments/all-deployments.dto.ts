import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEPLOYMENT_STATUSES, DeploymentStatus } from '../../../../libs/persistence/src';
import { DeploymentResponse } from './deployments.dto';

/** Larger pages than a user's list: an admin reads every deployment of the platform. */
export const ALL_DEPLOYMENTS_MAX_LIMIT = 1000;

export class AllDeploymentsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: ALL_DEPLOYMENTS_MAX_LIMIT, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(ALL_DEPLOYMENTS_MAX_LIMIT)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page (of the same filter)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ enum: DEPLOYMENT_STATUSES, description: 'Without it, every status but deleted' })
  @IsOptional()
  @IsIn(DEPLOYMENT_STATUSES)
  status?: DeploymentStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only deployments of this product' })
  @IsOptional()
  @IsUUID('all', { message: 'productId must be a UUID' })
  productId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only deployments whose desired template version is this one' })
  @IsOptional()
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId?: string;
}

export class ListedDeploymentResponse extends DeploymentResponse {
  @ApiProperty({ nullable: true, type: String, description: "The owner's e-mail address" }) ownerEmail: string | null;
  @ApiProperty({ nullable: true, type: String }) productName: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Version of the desired template' }) desiredTemplateVersion: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Version of the applied template; null before the first apply' }) appliedTemplateVersion: string | null;
}

export class StatusCount {
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty() count: number;
}

export class ProductCount {
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty({ nullable: true, type: String }) productName: string | null;
  @ApiProperty() count: number;
}

export class TemplateCount {
  @ApiProperty({ format: 'uuid', description: 'The desired template' }) templateId: string;
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty({ nullable: true, type: String }) productName: string | null;
  @ApiProperty({ nullable: true, type: String }) version: string | null;
  @ApiProperty() count: number;
}

export class DeploymentCountsResponse {
  @ApiProperty({ description: 'Deployments matching the filter, over all pages' }) total: number;
  @ApiProperty({ type: [StatusCount] }) byStatus: StatusCount[];
  @ApiProperty({ type: [ProductCount] }) byProduct: ProductCount[];
  @ApiProperty({ type: [TemplateCount], description: 'Per desired template version' }) byTemplate: TemplateCount[];
}

export class AllDeploymentsPage {
  @ApiProperty({ type: [ListedDeploymentResponse] }) items: ListedDeploymentResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
  @ApiProperty({ type: DeploymentCountsResponse, description: 'Counts over every page of the same filter, most first' }) counts: DeploymentCountsResponse;
}
