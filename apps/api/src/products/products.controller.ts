import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ProductsService } from '../../../../libs/domain/src';
import { AdminOnly, Authenticated } from '../auth/auth.decorators';
import { PageQueryDto } from '../http/page-query.dto';
import { UuidParam } from '../http/validation';
import { CreateProductDto, ProductPage, ProductResponse, UpdateProductDto } from './products.dto';

@ApiTags('products')
@ApiBearerAuth()
@Controller('products')
export class ProductsController {
  constructor(@Inject(ProductsService) private readonly products: ProductsService) {}

  @Post()
  @AdminOnly()
  @ApiCreatedResponse({ type: ProductResponse })
  async create(@Body() dto: CreateProductDto): Promise<ProductResponse> {
    return ProductResponse.from(await this.products.create(dto));
  }

  @Get()
  @Authenticated()
  @ApiOkResponse({ type: ProductPage })
  async list(@Query() q: PageQueryDto): Promise<ProductPage> {
    const page = await this.products.list(q);
    return { items: page.items.map((x) => ProductResponse.from(x)), nextCursor: page.nextCursor };
  }

  @Get(':productId')
  @Authenticated()
  @ApiOkResponse({ type: ProductResponse })
  async get(@Param('productId', UuidParam) productId: string): Promise<ProductResponse> {
    return ProductResponse.from(await this.products.get(productId));
  }

  @Put(':productId')
  @AdminOnly()
  @ApiOkResponse({ type: ProductResponse })
  async update(@Param('productId', UuidParam) productId: string, @Body() dto: UpdateProductDto): Promise<ProductResponse> {
    return ProductResponse.from(await this.products.update(productId, dto));
  }

  @Delete(':productId')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (idempotent)' })
  async delete(@Param('productId', UuidParam) productId: string): Promise<void> {
    await this.products.delete(productId);
  }
}
