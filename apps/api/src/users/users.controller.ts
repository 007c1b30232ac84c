import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsersService } from '../../../../libs/domain/src';
import { AdminOnly, SelfOrAdmin } from '../auth/auth.decorators';
import { PageQueryDto } from '../http/page-query.dto';
import { UuidParam } from '../http/validation';
import { CreatedUserResponse, CreateUserDto, UserPage, UserResponse } from './users.dto';

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
    const { user, apiToken } = await this.users.create(dto);
    return { ...UserResponse.from(user), apiToken };
  }

  @Get()
  @AdminOnly()
  @ApiOkResponse({ type: UserPage })
  async list(@Query() q: PageQueryDto): Promise<UserPage> {
    const page = await this.users.list(q);
    return { items: page.items.map(UserResponse.from), nextCursor: page.nextCursor };
  }

  @Get(':userId')
  @SelfOrAdmin()
  @ApiOkResponse({ type: UserResponse })
  async get(@Param('userId', UuidParam) userId: string): Promise<UserResponse> {
    return UserResponse.from(await this.users.get(userId));
  }

  @Delete(':userId')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (idempotent)' })
  async delete(@Param('userId', UuidParam) userId: string): Promise<void> {
    await this.users.delete(userId);
  }
}
