import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Principal, UsersService } from '../../../../libs/domain/src';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';

export class SessionResponse {
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null for the bootstrap admin token, which has no user' }) userId: string | null;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() isAdmin: boolean;
}

/** Who a bearer token belongs to: a client holding only a token (the console) needs its user id. */
@ApiTags('session')
@ApiBearerAuth()
@Controller('session')
export class SessionController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The user the bearer token belongs to' })
  @ApiOkResponse({ type: SessionResponse })
  async get(@CurrentPrincipal() p: Principal): Promise<SessionResponse> {
    if (p.userId === null) return { userId: null, email: null, isAdmin: p.isAdmin };
    const { user } = await this.users.get(p.userId);
    return { userId: user.id, email: user.email, isAdmin: user.isAdmin };
  }
}
