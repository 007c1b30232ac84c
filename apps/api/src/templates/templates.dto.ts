import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, MaxLength, MinLength } from 'class-validator';
import { TemplateCapabilities, TemplateVersionEntity } from '../../../../libs/persistence/src';
import { IsOptionalNotNull, RawJson } from '../http/validation';

export class CreateTemplateDto {
  @ApiProperty({ example: '1.0.0', description: 'Semantic version of this template; upgrades only go forward' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  version: string;

  @ApiProperty({ example: 'oci://registry.example.com/charts/webapp', description: 'oci:// reference, or an absolute chart directory inside CAELUS_CHART_ROOTS' })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  chartRef: string;

  @ApiProperty({ example: '1.0.0' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  chartVersion: string;

  @ApiPropertyOptional({ example: 'sha256:…', description: 'Required for oci:// charts' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(71)
  chartDigest?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptionalNotNull()
  @IsObject()
  @RawJson()
  defaultValues?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'JSON Schema for the merged values; mark secret fields with "x-caelus-secret": true' })
  @IsOptionalNotNull()
  @IsObject()
  @RawJson()
  valuesSchema?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      '{ quota?, limits?: { default?, defaultRequest?, max? }, upgradePolicy?: { allowFrom? }, backend?: "helm" | "flux" }. backend (default helm) is fixed for a deployment\'s life: an upgrade to a template of another backend is refused (409); flux needs an oci:// chart',
  })
  @IsOptionalNotNull()
  @IsObject()
  @RawJson()
  capabilities?: TemplateCapabilities;
}

export class TemplateResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty() version: string;
  @ApiProperty() chartRef: string;
  @ApiProperty() chartVersion: string;
  @ApiProperty({ nullable: true, type: String }) chartDigest: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) defaultValues: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) valuesSchema: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) capabilities: TemplateCapabilities;
  @ApiProperty() createdAt: string;

  static from(t: TemplateVersionEntity): TemplateResponse {
    return {
      id: t.id,
      productId: t.productId,
      version: t.version,
      chartRef: t.chartRef,
      chartVersion: t.chartVersion,
      chartDigest: t.chartDigest,
      defaultValues: t.defaultValues,
      valuesSchema: t.valuesSchema,
      capabilities: t.capabilities,
      createdAt: t.createdAt.toISOString(),
    };
  }
}

export class TemplatePage {
  @ApiProperty({ type: [TemplateResponse] }) items: TemplateResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
