import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TemplatesService } from '../../../../libs/domain/src';
import { AdminOnly, Authenticated } from '../auth/auth.decorators';
import { PageQueryDto } from '../http/page-query.dto';
import { UuidParam } from '../http/validation';
import { CreateTemplateDto, TemplatePage, TemplateResponse } from './templates.dto';

@ApiTags('templates')
@ApiBearerAuth()
@Controller('products/:productId/templates')
export class TemplatesController {
  constructor(@Inject(TemplatesService) private readonly templates: TemplatesService) {}

  @Post()
  @AdminOnly()
  @ApiCreatedResponse({ type: TemplateResponse })
  async create(@Param('productId', UuidParam) productId: string, @Body() dto: CreateTemplateDto): Promise<TemplateResponse> {
    return TemplateResponse.from(await this.templates.create(productId, dto));
  }

  @Get()
  @Authenticated()
  @ApiOkResponse({ type: TemplatePage })
  async list(@Param('productId', UuidParam) productId: string, @Query() q: PageQueryDto): Promise<TemplatePage> {
    const page = await this.templates.list(productId, q);
    return { items: page.items.map((x) => TemplateResponse.from(x)), nextCursor: page.nextCursor };
  }

  @Get(':templateId')
  @Authenticated()
  @ApiOkResponse({ type: TemplateResponse })
  async get(@Param('productId', UuidParam) productId: string, @Param('templateId', UuidParam) templateId: string): Promise<TemplateResponse> {
    return TemplateResponse.from(await this.templates.get(productId, templateId));
  }

  @Delete(':templateId')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (soft; running deployments keep it)' })
  async delete(@Param('productId', UuidParam) productId: string, @Param('templateId', UuidParam) templateId: string): Promise<void> {
    await this.templates.delete(productId, templateId);
  }
}
