import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from './auth-user';
import { AuthenticatedRequest, IS_PUBLIC, REQUIRED_ROLE } from './auth.decorators';
import { ForbiddenRoleError } from './auth.errors';
import { AuthService } from './auth.service';

/** Global guard: routes need a valid Bearer token unless marked `@Public()`. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const user = this.auth.authenticate(request.headers.authorization);
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (role && user.role !== role) {
      throw new ForbiddenRoleError(`This route needs the ${role} role`);
    }
    request.user = user;
    return true;
  }
}
