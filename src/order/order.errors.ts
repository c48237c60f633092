import { DomainError } from '../common/errors/domain-error';
import type { Admission } from '../voucher/admission';

abstract class SeckillRejection extends DomainError {
  readonly status = 409;
}

export class SaleNotStartedError extends SeckillRejection {
  override readonly name = SaleNotStartedError.name;
  readonly code = 'NOT_STARTED';
}

export class SaleEndedError extends SeckillRejection {
  override readonly name = SaleEndedError.name;
  readonly code = 'ENDED';
}

export class SoldOutError extends SeckillRejection {
  override readonly name = SoldOutError.name;
  readonly code = 'SOLD_OUT';
}

export class AlreadyOrderedError extends SeckillRejection {
  override readonly name = AlreadyOrderedError.name;
  readonly code = 'ALREADY_ORDERED';

  /** Names the caller's existing order in the answer (`orderId`). */
  withOrder(orderId: string): this {
    this.extra = { orderId };
    return this;
  }
}

/** A COMMIT's outcome could not be read back (MySQL unreachable): the order may or may not exist. */
export class OrderOutcomeUnknownError extends DomainError {
  override readonly name = OrderOutcomeUnknownError.name;
  readonly status = 503;
  readonly code = 'ORDER_OUTCOME_UNKNOWN';
  override readonly retryAfterSeconds = 2;
}

/** The request's deadline (ORDER_REQUEST_DEADLINE_MS) passed before COMMIT: rolled back, nothing placed. */
export class OrderDeadlineExceededError extends DomainError {
  override readonly name = OrderDeadlineExceededError.name;
  readonly status = 503;
  readonly code = 'ORDER_DEADLINE_EXCEEDED';
  override readonly retryAfterSeconds = 1;
}

export class OrderNotFoundError extends DomainError {
  override readonly name = OrderNotFoundError.name;
  readonly status = 404;
  readonly code = 'ORDER_NOT_FOUND';
}

/** The rejection both sale paths answer for a window, stock or buyer outcome of their admission script. */
export function saleRejection(admission: Admission): SeckillRejection | undefined {
  switch (admission) {
    case 'not-started':
      return new SaleNotStartedError('The sale has not started yet');
    case 'ended':
      return new SaleEndedError('The sale has ended');
    case 'sold-out':
      return new SoldOutError('Sold out');
    case 'already-bought':
      return new AlreadyOrderedError('You already ordered this voucher');
    default:
      return undefined;
  }
}
