import { DomainError } from '../common/errors/domain-error';

export class UnauthenticatedError extends DomainError {
  override readonly name = UnauthenticatedError.name;
  readonly status = 401;
  readonly code = 'UNAUTHORIZED';
}

export class ForbiddenRoleError extends DomainError {
  override readonly name = ForbiddenRoleError.name;
  readonly status = 403;
  readonly code = 'FORBIDDEN';
}

export class DevTokensDisabledError extends DomainError {
  override readonly name = DevTokensDisabledError.name;
  readonly status = 404;
  readonly code = 'NOT_FOUND';
}
