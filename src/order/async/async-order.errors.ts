import { DomainError } from '../../common/errors/domain-error';

/** The sale's Redis state is missing (lost beyond the durability contract) and is being rebuilt. */
export class SaleUnavailableError extends DomainError {
  override readonly name = SaleUnavailableError.name;
  readonly status = 503;
  readonly code = 'SALE_UNAVAILABLE';
  override readonly retryAfterSeconds = 1;
}

/** Consumers are behind by more than ORDER_MAX_BACKLOG orders: admission pauses. */
export class OrderBacklogError extends DomainError {
  override readonly name = OrderBacklogError.name;
  readonly status = 503;
  readonly code = 'ORDER_BACKLOG';
  override readonly retryAfterSeconds = 1;
}

/**
 * ORDER_DURABILITY=replicas: fewer replicas than required confirmed the admission in time. The order
 * may still be persisted (it is in the master's stream); it was not confirmed durable, so no 202.
 */
export class DurabilityUnconfirmedError extends DomainError {
  override readonly name = DurabilityUnconfirmedError.name;
  readonly status = 503;
  readonly code = 'DURABILITY_UNCONFIRMED';
  override readonly retryAfterSeconds = 1;
}

/** A re-check found Redis configured so that it would lose accepted orders: no 202 until fixed. */
export class RedisNotDurableError extends DomainError {
  override readonly name = RedisNotDurableError.name;
  readonly status = 503;
  readonly code = 'REDIS_NOT_DURABLE';
  override readonly retryAfterSeconds = 5;
}
