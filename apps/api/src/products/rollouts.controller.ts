import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RolloutAction, RolloutsService } from '../../../../libs/domain/src';
import { AdminOnly, CurrentPrincipal } from '../auth/auth.decorators';
import { PageQueryDto } from '../http/page-query.dto';
import { UuidParam } from '../http/validation';
import { CreateRolloutDto, RolloutPage, RolloutResponse } from './rollouts.dto';

@ApiTags('rollouts')
@ApiBearerAuth()
@Controller('products/:productId/rollouts')
export class RolloutsController {
  constructor(@Inject(RolloutsService) private readonly rollouts: RolloutsService) {}

  @Post()
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: "Upgrade the product's deployments to a template version in waves, gated on their health" })
  @ApiAcceptedResponse({ type: RolloutResponse, description: 'Rollout started; its workflow selects the deployments and runs the waves' })
  @ApiConflictResponse({ description: 'The product already has a running or paused rollout' })
  create(@CurrentPrincipal() p: Principal, @Param('productId', UuidParam) productId: string, @Body() dto: CreateRolloutDto): Promise<RolloutResponse> {
    return this.rollouts.create(p, productId, dto);
  }

  @Get()
  @AdminOnly()
  @ApiOkResponse({ type: RolloutPage })
  list(@Param('productId', UuidParam) productId: string, @Query() q: PageQueryDto): Promise<RolloutPage> {
    return this.rollouts.list(productId, q);
  }

  @Get(':rolloutId')
  @AdminOnly()
  @ApiOkResponse({ type: RolloutResponse })
  get(@Param('productId', UuidParam) productId: string, @Param('rolloutId', UuidParam) rolloutId: string): Promise<RolloutResponse> {
    return this.rollouts.get(productId, rolloutId);
  }

  @Post(':rolloutId/pause')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Pause before the next page or wave (members already upgrading are still watched)' })
  @ApiAcceptedResponse({ type: RolloutResponse, description: 'Signal sent; the status changes when the workflow records it' })
  @ApiConflictResponse({ description: 'Not running, or already ended' })
  pause(@CurrentPrincipal() p: Principal, @Param('productId', UuidParam) productId: string, @Param('rolloutId', UuidParam) rolloutId: string): Promise<RolloutResponse> {
    return this.control(p, productId, rolloutId, 'pause');
  }

  @Post(':rolloutId/resume')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Resume a paused rollout (also the approval of the next wave with approval: manual)' })
  @ApiAcceptedResponse({ type: RolloutResponse, description: 'Signal sent; the status changes when the workflow records it' })
  @ApiConflictResponse({ description: 'Not paused, or already ended' })
  resume(@CurrentPrincipal() p: Principal, @Param('productId', UuidParam) productId: string, @Param('rolloutId', UuidParam) rolloutId: string): Promise<RolloutResponse> {
    return this.control(p, productId, rolloutId, 'resume');
  }

  @Post(':rolloutId/abort')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Stop the rollout; deployments not yet upgraded stay as they are' })
  @ApiAcceptedResponse({ type: RolloutResponse, description: 'Signal sent; the status changes when the workflow records it' })
  @ApiConflictResponse({ description: 'Already ended' })
  abort(@CurrentPrincipal() p: Principal, @Param('productId', UuidParam) productId: string, @Param('rolloutId', UuidParam) rolloutId: string): Promise<RolloutResponse> {
    return this.control(p, productId, rolloutId, 'abort');
  }

  private control(p: Principal, productId: string, rolloutId: string, action: RolloutAction): Promise<RolloutResponse> {
    return this.rollouts.control(p, productId, rolloutId, action);
  }
}
