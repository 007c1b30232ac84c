import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden, Principal, unauthenticated, UsersService } from '../../../../libs/domain/src';
import { Access, ACCESS_KEY } from './auth.decorators';
import { PrincipalRequest, resolveBearer } from './request-principal';

/**
 * Runs on every route. A route without an access decorator is refused, so a new route
 * cannot be exposed by forgetting one.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (access === 'public') return true;
    if (access === undefined) throw forbidden('this route has no access policy');

    const req = ctx.switchToHttp().getRequest<PrincipalRequest & { principal?: Principal; params?: Record<string, string | undefined> }>();
    const bearer = await resolveBearer(req, this.users);
    if (bearer.kind === 'missing') throw unauthenticated();
    if (bearer.kind === 'invalid') throw unauthenticated('the bearer token is not valid');
    const principal = bearer.principal;
    req.principal = principal;

    if (access === 'admin' && !principal.isAdmin) throw forbidden('this route is for admins only');
    if (access === 'self-or-admin' && !principal.isAdmin && req.params?.userId !== principal.userId) {
      throw forbidden('you can only reach your own resources');
    }
    return true;
  }
}
