import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DeploymentsService, Principal } from '../../../../libs/domain/src';
import { AdminOnly, CurrentPrincipal, SelfOrAdmin } from '../auth/auth.decorators';
import { DeploymentListQueryDto, PageQueryDto } from '../http/page-query.dto';
import { IfMatch, UuidParam } from '../http/validation';
import {
  CreateDeploymentDto,
  DeploymentEventPage,
  DeploymentPage,
  DeploymentResponse,
  SuspendDeploymentDto,
  UpdateDeploymentDto,
  UpgradeDeploymentDto,
  UpgradePreviewResponse,
  UpgradeQueryDto,
} from './deployments.dto';

@ApiTags('deployments')
@ApiBearerAuth()
@Controller('users/:userId/deployments')
export class DeploymentsController {
  constructor(@Inject(DeploymentsService) private readonly deployments: DeploymentsService) {}

  @Post()
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiOperation({ summary: 'Request a deployment; the workflow provisions it asynchronously' })
  @ApiAcceptedResponse({ type: DeploymentResponse })
  create(@CurrentPrincipal() p: Principal, @Param('userId', UuidParam) userId: string, @Body() dto: CreateDeploymentDto): Promise<DeploymentResponse> {
    return this.deployments.create(p, userId, dto);
  }

  @Get()
  @SelfOrAdmin()
  @ApiOkResponse({ type: DeploymentPage })
  list(@Param('userId', UuidParam) userId: string, @Query() q: DeploymentListQueryDto): Promise<DeploymentPage> {
    return this.deployments.list({ userId, status: q.status }, q);
  }

  @Get(':deploymentId')
  @SelfOrAdmin()
  @ApiOkResponse({ type: DeploymentResponse })
  get(@Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string): Promise<DeploymentResponse> {
    return this.deployments.get(userId, deploymentId);
  }

  @Put(':deploymentId')
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiHeader({ name: 'If-Match', required: false, description: 'Generation last seen; a mismatch is a 409 instead of a silent overwrite' })
  @ApiAcceptedResponse({ type: DeploymentResponse })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UuidParam) userId: string,
    @Param('deploymentId', UuidParam) deploymentId: string,
    @Body() dto: UpdateDeploymentDto,
    @IfMatch() expectedGeneration?: number,
  ): Promise<DeploymentResponse> {
    return this.deployments.updateValues(p, userId, deploymentId, dto.values, expectedGeneration);
  }

  @Post(':deploymentId/upgrade')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Admin upgrade to a newer template of the same product',
    description:
      'With `dryRun=true` nothing changes: the answer (200) says whether the upgrade would be accepted and why not, and diffs the manifests of the applied and the target template rendered with the current values. A refused preview is still a 200 with `valid: false`; only an unknown deployment or template is a 404.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Generation last seen; a mismatch is a 409' })
  @ApiAcceptedResponse({ type: DeploymentResponse, description: 'Upgrade accepted; the workflow applies it' })
  @ApiOkResponse({ type: UpgradePreviewResponse, description: 'dryRun=true: the preview' })
  @ApiConflictResponse({ description: 'Backwards, cross-product or disallowed upgrade, a deployment being deleted, or a stale If-Match (not for dryRun, which answers valid: false)' })
  async upgrade(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UuidParam) userId: string,
    @Param('deploymentId', UuidParam) deploymentId: string,
    @Body() dto: UpgradeDeploymentDto,
    @Query() q: UpgradeQueryDto,
    // The status depends on dryRun, and Nest would overwrite one set on a passthrough response.
    @Res() res: Response,
    @IfMatch() expected?: number,
  ): Promise<void> {
    if (q.dryRun) {
      const preview: UpgradePreviewResponse = await this.deployments.previewUpgrade(userId, deploymentId, dto.templateId, expected);
      res.status(200).json(preview);
      return;
    }
    const deployment: DeploymentResponse = await this.deployments.upgrade(p, userId, deploymentId, dto.templateId, expected);
    res.status(202).json(deployment);
  }

  @Post(':deploymentId/suspend')
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Suspend a deployment: nothing is applied and drift is not corrected until it is resumed',
    description:
      'Values changes and upgrades are still accepted; they wait for the resume. Drift is still detected and recorded (`drift-detected` events, `drift`). A delete is never held back: it ends the suspension. Idempotent: suspending a suspended deployment changes nothing.',
  })
  @ApiAcceptedResponse({ type: DeploymentResponse })
  @ApiConflictResponse({ description: 'The deployment is being deleted or is deleted' })
  suspend(
    @CurrentPrincipal() p: Principal,
    @Param('userId', UuidParam) userId: string,
    @Param('deploymentId', UuidParam) deploymentId: string,
    @Body() dto: SuspendDeploymentDto,
  ): Promise<DeploymentResponse> {
    return this.deployments.suspend(p, userId, deploymentId, dto.reason);
  }

  @Post(':deploymentId/resume')
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Resume a suspended deployment: the workflow reconciles at once',
    description: 'Applies what waited and re-applies the release, which corrects the drift left alone while suspended. Idempotent: resuming a deployment that is not suspended changes nothing.',
  })
  @ApiAcceptedResponse({ type: DeploymentResponse })
  @ApiConflictResponse({ description: 'The deployment is being deleted or is deleted' })
  resume(@CurrentPrincipal() p: Principal, @Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string): Promise<DeploymentResponse> {
    return this.deployments.resume(p, userId, deploymentId);
  }

  @Delete(':deploymentId')
  @SelfOrAdmin()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeploymentResponse, description: 'Deletion requested (idempotent)' })
  delete(@CurrentPrincipal() p: Principal, @Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string): Promise<DeploymentResponse> {
    return this.deployments.delete(p, userId, deploymentId);
  }

  @Get(':deploymentId/events')
  @SelfOrAdmin()
  @ApiOkResponse({ type: DeploymentEventPage })
  events(@Param('userId', UuidParam) userId: string, @Param('deploymentId', UuidParam) deploymentId: string, @Query() q: PageQueryDto): Promise<DeploymentEventPage> {
    return this.deployments.events(userId, deploymentId, q.limit, q.cursor);
  }
}
