import { DomainError } from '../common/errors/domain-error';

/** Too many order requests from one user or one client address: 429 with `Retry-After`. */
export class RateLimitedError extends DomainError {
  override readonly name = RateLimitedError.name;
  readonly status = 429;
  readonly code = 'RATE_LIMITED';

  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(message);
  }

  /** The refusal of an admission script that answered "rate limited, retry after `retryAfterMs`". */
  static after(retryAfterMs: number): RateLimitedError {
    return new RateLimitedError('Too many order requests; slow down', Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
}
