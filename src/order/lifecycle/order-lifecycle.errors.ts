import { DomainError } from '../../common/errors/domain-error';
import type { VoucherOrderResponse } from '../dto/voucher-order.response';

/** A transition the order's current status does not allow: 409 with the order as it is now. */
abstract class OrderTransitionRefused extends DomainError {
  readonly status = 409;
  constructor(message: string, order?: VoucherOrderResponse) {
    super(message);
    if (order) {
      this.extra = { order };
    }
  }
}

/** Pay: the order is cancelled, past its payment deadline, used or refunded. */
export class OrderNotPayableError extends OrderTransitionRefused {
  override readonly name = OrderNotPayableError.name;
  readonly code = 'ORDER_NOT_PAYABLE';
}

/** Cancel: the order is no longer unpaid. */
export class OrderNotCancellableError extends OrderTransitionRefused {
  override readonly name = OrderNotCancellableError.name;
  readonly code = 'ORDER_NOT_CANCELLABLE';
}

/** Use (write-off): the order is not paid. */
export class OrderNotUsableError extends OrderTransitionRefused {
  override readonly name = OrderNotUsableError.name;
  readonly code = 'ORDER_NOT_USABLE';
}

/** Refund: the order is neither paid nor used. */
export class OrderNotRefundableError extends OrderTransitionRefused {
  override readonly name = OrderNotRefundableError.name;
  readonly code = 'ORDER_NOT_REFUNDABLE';
}

/** Async mode: the order is accepted but not yet in MySQL; it can be paid or cancelled in a moment. */
export class OrderPendingError extends OrderTransitionRefused {
  override readonly name = OrderPendingError.name;
  readonly code = 'ORDER_PENDING';
  override readonly retryAfterSeconds = 1;
}
