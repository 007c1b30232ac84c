import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ProductEntity } from '../../../../libs/persistence/src';
import { IsOptionalNotNull } from '../http/validation';

/** Optional, and null clears it (the configured global list applies again). */
const AllowedDomainSuffixes = (): PropertyDecorator => {
  const decorators = [
    ValidateIf((_o, v) => v !== undefined && v !== null),
    IsArray(),
    ArrayMaxSize(50),
    IsString({ each: true }),
    MaxLength(253, { each: true }),
    ApiPropertyOptional({
      type: [String],
      nullable: true,
      maxItems: 50,
      example: ['apps.example.com'],
      description: "Deployments' domain names must lie under one of these suffixes; replaces CAELUS_ALLOWED_DOMAIN_SUFFIXES for this product. null or []: the global list applies",
    }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
};

/**
 * A product name's rules; the create DTO requires the name, the update DTO does not. Listed
 * bottom-up, the order stacked decorators apply in, so problems are reported in the same order.
 */
const ProductName = () => applyDecorators(MaxLength(40), MinLength(1), IsString());

/** Optional; null is refused rather than taken as "clear". */
const ProductDescription = () => applyDecorators(MaxLength(2000), IsString(), IsOptionalNotNull(), ApiPropertyOptional({ maxLength: 2000 }));

export class CreateProductDto {
  @ApiProperty({ example: 'nextcloud', description: 'DNS label, at most 40 characters' })
  @ProductName()
  name: string;

  @ProductDescription()
  description?: string;

  @AllowedDomainSuffixes()
  allowedDomainSuffixes?: string[] | null;
}

export class UpdateProductDto {
  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @ProductName()
  name?: string;

  @ProductDescription()
  description?: string;

  @AllowedDomainSuffixes()
  allowedDomainSuffixes?: string[] | null;
}

export class ProductResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String], nullable: true, description: 'Allowed domain suffixes of this product; null: the global list applies' }) allowedDomainSuffixes: string[] | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static from(p: ProductEntity): ProductResponse {
    return { id: p.id, name: p.name, description: p.description, allowedDomainSuffixes: p.allowedDomainSuffixes ?? null, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
  }
}

export class ProductPage {
  @ApiProperty({ type: [ProductResponse] }) items: ProductResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
