import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeploymentsService, Principal } from '../../../../libs/domain/src';
import { AdminOnly, CurrentPrincipal, SelfOrAdmin } from '../auth/auth.decorators';
import { DeploymentListQueryDto, PageQueryDto } from '../http/page-query.dto';
import { parseIfMatch, UuidParam } from '../http/validation';
import { CreateDeploymentDto, DeploymentEventPage, DeploymentPage, DeploymentResponse, UpdateDeploymentDto, UpgradeDeploymentDto } from './deployments.dto';

@ApiTags('deployments')
@ApiBearerAuth()
@Controller('users/:userId/deployments')
export class DeploymentsController {
  constructor(@Inject(DeploymentsService) private readonly deployments: DeploymentsService) {}

  @Post()
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiOperation({ summary: 'Request a deployment; the workflow provisions it asynchronously' })
  create(@CurrentPrincipal() p: Principal, @Param('userId', UuidParam) userId: string, @Body() dto: CreateDeploymentDto): Promise<DeploymentResponse> {
    return this.deployments.create(p, userId, dto);
  }

  @Get()
  @SelfOrAdmin()
  list(@Param('userId', UuidParam) userId: string, @Query() q: DeploymentListQueryDto): Promise<DeploymentPage> {
    return this.deployments.list({ userId, status: q.status }, q);
  }

  @Get(':deploymentId')
  @SelfOrAdmin()
  get(@Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string): Promise<DeploymentResponse> {
    return this.deployments.get(userId, deploymentId);
  }

  @Put(':deploymentId')
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiHeader({ name: 'If-Match', required: false, description: 'Generation last seen; a mismatch is a 409 instead of a silent overwrite' })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UuidParam) userId: string,
    @Param('deploymentId', UuidParam) deploymentId: string,
    @Body() dto: UpdateDeploymentDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<DeploymentResponse> {
    return this.deployments.updateValues(p, userId, deploymentId, dto.values, parseIfMatch(ifMatch));
  }

  @Post(':deploymentId/upgrade')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Admin upgrade to a newer template of the same product' })
  @ApiHeader({ name: 'If-Match', required: false })
  upgrade(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UuidParam) userId: string,
    @Param('deploymentId', UuidParam) deploymentId: string,
    @Body() dto: UpgradeDeploymentDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<DeploymentResponse> {
    return this.deployments.upgrade(p, userId, deploymentId, dto.templateId, parseIfMatch(ifMatch));
  }

  @Delete(':deploymentId')
  @SelfOrAdmin()
  @HttpCode(202)
  delete(@CurrentPrincipal() p: Principal, @Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string): Promise<DeploymentResponse> {
    return this.deployments.delete(p, userId, deploymentId);
  }

  @Get(':deploymentId/events')
  @SelfOrAdmin()
  events(@Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string, @Query() q: PageQueryDto): Promise<DeploymentEventPage> {
    return this.deployments.events(userId, deploymentId, q.limit, q.cursor);
  }
}
