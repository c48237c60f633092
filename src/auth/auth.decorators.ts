import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthUser, Role } from './auth-user';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';

/** Opens a route to unauthenticated callers; every other route needs a valid Bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The OpenAPI extension naming the role an operation requires (the security suite finds admin routes by it). */
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';

/**
 * Restricts a route (or controller) to callers with this role, and says so in the OpenAPI document,
 * from the same decorator, so a new admin route is listed (and probed) without anyone remembering to.
 */
export const RequireRole = (role: Role) =>
  applyDecorators(SetMetadata(REQUIRED_ROLE, role), ApiExtension(REQUIRED_ROLE_EXTENSION, role));

export type AuthenticatedRequest = FastifyRequest & { user?: AuthUser };

/** Injects the caller set by `AuthGuard`. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) {
    throw new Error('CurrentUser used on a public route');
  }
  return user;
});
