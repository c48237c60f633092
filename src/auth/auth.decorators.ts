import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthUser, Role } from './auth-user';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';

/** Opens a route to unauthenticated callers; every other route needs a valid Bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Restricts a route (or controller) to callers with this role. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

export type AuthenticatedRequest = FastifyRequest & { user?: AuthUser };

/** Injects the caller set by `AuthGuard`. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) {
    throw new Error('CurrentUser used on a public route');
  }
  return user;
});
