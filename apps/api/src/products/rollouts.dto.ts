import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import { MAX_SECONDS, MAX_WAVES } from '../../../../libs/domain/src';
import { ROLLOUT_APPROVALS, ROLLOUT_STATUSES } from '../../../../libs/persistence/src';
import { WorkflowLink } from '../deployments/deployments.dto';
import { IsOptionalNotNull, RawJson } from '../http/validation';

export class CreateRolloutDto {
  @ApiProperty({ format: 'uuid', description: 'The template version every selected deployment is upgraded to' })
  @IsUUID('all', { message: 'toTemplateId must be a UUID' })
  toTemplateId: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: 100,
    description: 'Only deployments on these versions. Left out: every live deployment on an older version that may upgrade to the target',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true, message: 'fromTemplateIds must be UUIDs' })
  fromTemplateIds?: string[];

  // Counts and percentages mixed: checked by the domain (waveProblems), which names the bad wave.
  @ApiPropertyOptional({
    type: 'array',
    items: {
      oneOf: [
        { type: 'integer', minimum: 1 },
        { type: 'string', pattern: '^[0-9]{1,3}(\\.[0-9]{1,2})?%$' },
      ],
    },
    maxItems: MAX_WAVES,
    example: [1, '10%', '50%', '100%'],
    description:
      'Cumulative wave ends: a number is a count of deployments, a string a percentage of the selection. Default [1, "10%", "50%", "100%"]. A wave that adds nobody is dropped; the last wave takes whatever is left',
  })
  @IsOptionalNotNull()
  @IsArray()
  @RawJson()
  waves?: (number | string)[];

  @ApiPropertyOptional({ default: 0, minimum: 0, description: 'More failed deployments than this halt the rollout (status failed), leaving the rest untouched' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxFailures?: number;

  @ApiPropertyOptional({ default: 600, minimum: 1, maximum: MAX_SECONDS, description: 'How long an upgraded deployment has to become ready (and not degraded) before it counts as failed' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(MAX_SECONDS)
  healthTimeoutSeconds?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_SECONDS, description: 'Wait between waves' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_SECONDS)
  pauseBetweenWavesSeconds?: number;

  @ApiPropertyOptional({ enum: ROLLOUT_APPROVALS, default: 'auto', description: 'manual: the rollout pauses after each wave until resumed' })
  @IsOptionalNotNull()
  @IsIn(ROLLOUT_APPROVALS)
  approval?: 'auto' | 'manual';
}

export class RolloutWaveResponse {
  @ApiProperty({ description: '1-based' }) wave: number;
  @ApiProperty() size: number;
  @ApiProperty() pending: number;
  @ApiProperty() upgrading: number;
  @ApiProperty() upgraded: number;
  @ApiProperty() failed: number;
  @ApiProperty() skipped: number;
}

export class RolloutEventResponse {
  @ApiProperty() id: string;
  @ApiProperty() type: string;
  @ApiProperty() actor: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty() createdAt: string;
}

export class RolloutResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty({ format: 'uuid' }) toTemplateId: string;
  @ApiProperty({ type: [String], nullable: true }) fromTemplateIds: string[] | null;
  @ApiProperty({ type: 'array', items: { oneOf: [{ type: 'integer' }, { type: 'string' }] } }) waves: (number | string)[];
  @ApiProperty() maxFailures: number;
  @ApiProperty() healthTimeoutSeconds: number;
  @ApiProperty() pauseBetweenWavesSeconds: number;
  @ApiProperty({ enum: ROLLOUT_APPROVALS }) approval: string;
  @ApiProperty({ enum: ROLLOUT_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why the rollout stopped or is paused' }) reason: string | null;
  @ApiProperty({ nullable: true, type: Number, description: '1-based; null before the first wave' }) currentWave: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Deployments selected; null until the workflow selected them' }) total: number | null;
  @ApiProperty({ type: [RolloutWaveResponse] }) waveCounts: RolloutWaveResponse[];
  @ApiProperty() createdBy: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty({ type: WorkflowLink }) workflow: WorkflowLink;
  @ApiPropertyOptional({ type: [RolloutEventResponse], description: 'The newest events (single rollout only)' }) events?: RolloutEventResponse[];
}

export class RolloutPage {
  @ApiProperty({ type: [RolloutResponse] }) items: RolloutResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
