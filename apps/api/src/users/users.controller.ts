import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsersService } from '../../../../libs/domain/src';
import { AdminOnly, SelfOrAdmin } from '../auth/auth.decorators';
import { PageQueryDto } from '../http/page-query.dto';
import { UuidParam } from '../http/validation';
import { CreatedUserResponse, CreateUserDto, UpdateUserDto, UserPage, UserResponse } from './users.dto';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Post()
  @AdminOnly()
  @ApiCreatedResponse({ type: CreatedUserResponse })
  @ApiOperation({ summary: 'Create a user; the response carries its API token, shown once' })
  async create(@Body() dto: CreateUserDto): Promise<CreatedUserResponse> {
    const created = await this.users.create(dto);
    return { ...UserResponse.from(created), apiToken: created.apiToken };
  }

  @Get()
  @AdminOnly()
  @ApiOkResponse({ type: UserPage })
  async list(@Query() q: PageQueryDto): Promise<UserPage> {
    const page = await this.users.list(q);
    return { items: page.items.map((x) => UserResponse.from(x)), nextCursor: page.nextCursor };
  }

  @Get(':userId')
  @SelfOrAdmin()
  @ApiOkResponse({ type: UserResponse })
  async get(@Param('userId', UuidParam) userId: string): Promise<UserResponse> {
    return UserResponse.from(await this.users.get(userId));
  }

  @Put(':userId')
  @AdminOnly()
  @ApiOkResponse({ type: UserResponse })
  @ApiOperation({ summary: "Change a user's settings (admin): its deployment limit; fields left out stay as they are" })
  async update(@Param('userId', UuidParam) userId: string, @Body() dto: UpdateUserDto): Promise<UserResponse> {
    return UserResponse.from(await this.users.update(userId, dto));
  }

  @Post(':userId/token')
  @SelfOrAdmin()
  @HttpCode(200)
  @ApiOkResponse({ type: CreatedUserResponse })
  @ApiOperation({ summary: 'Issue a new API token for the user and revoke the old one at once; the new token is shown once' })
  async rotateToken(@Param('userId', UuidParam) userId: string): Promise<CreatedUserResponse> {
    const rotated = await this.users.rotateToken(userId);
    return { ...UserResponse.from(rotated), apiToken: rotated.apiToken };
  }

  @Delete(':userId')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (idempotent)' })
  async delete(@Param('userId', UuidParam) userId: string): Promise<void> {
    await this.users.delete(userId);
  }
}
