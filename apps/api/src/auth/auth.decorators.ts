import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Principal } from '../../../../libs/domain/src';

export type Access = 'public' | 'authenticated' | 'admin' | 'self-or-admin';
export const ACCESS_KEY = 'caelus:access';

/** No token needed (health, docs). */
export const Public = () => SetMetadata(ACCESS_KEY, 'public' satisfies Access);
/** Any valid token. */
export const Authenticated = () => SetMetadata(ACCESS_KEY, 'authenticated' satisfies Access);
/** Admins only. */
export const AdminOnly = () => SetMetadata(ACCESS_KEY, 'admin' satisfies Access);
/** The user named by the `:userId` route parameter, or an admin. */
export const SelfOrAdmin = () => SetMetadata(ACCESS_KEY, 'self-or-admin' satisfies Access);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
