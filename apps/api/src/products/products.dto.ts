import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ProductEntity } from '../../../../libs/persistence/src';
import { IsOptionalNotNull } from '../http/validation';

export class CreateProductDto {
  @ApiProperty({ example: 'nextcloud', description: 'DNS label, at most 40 characters' })
  @IsString()
  @MinLength(1)
  @MaxLength(40)
  name: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class UpdateProductDto {
  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(40)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ProductResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static from(p: ProductEntity): ProductResponse {
    return { id: p.id, name: p.name, description: p.description, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
  }
}

export class ProductPage {
  @ApiProperty({ type: [ProductResponse] }) items: ProductResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
