import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeploymentsService } from '../../../../libs/domain/src';
import { AdminOnly } from '../auth/auth.decorators';
import { AllDeploymentsPage, AllDeploymentsQueryDto } from './all-deployments.dto';

/** Every user's deployments in one list, for admins (a user's own list is under /users/:userId). */
@ApiTags('deployments')
@ApiBearerAuth()
@Controller('deployments')
export class AllDeploymentsController {
  constructor(@Inject(DeploymentsService) private readonly deployments: DeploymentsService) {}

  @Get()
  @AdminOnly()
  @ApiOperation({
    summary: "Every user's deployments (admin)",
    description:
      'Oldest first, paged with cursors like the per-user list but up to 1,000 a page, each with its owner, product and template versions; `counts` counts what the filter matches over all pages, per status, product and desired template version.',
  })
  @ApiOkResponse({ type: AllDeploymentsPage })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  list(@Query() q: AllDeploymentsQueryDto): Promise<AllDeploymentsPage> {
    return this.deployments.listAll({ status: q.status, productId: q.productId, templateId: q.templateId }, { limit: q.limit, cursor: q.cursor });
  }
}
