import type { AuthUser } from '../auth/auth-user';
import type { SaleRequest } from '../voucher/sale-request';
import type { AsyncSaleBacklog } from './dto/sale-orders.response';

/** An accepted order that is not in MySQL: on its way (PENDING) or dead-lettered (FAILED). */
export interface OrderLookup {
  state: 'PENDING' | 'FAILED';
  orderId: string;
  userId: string;
  voucherId: string;
  reason?: string;
}

/**
 * What the order module's shared code — the sale route, order lookups, the lifecycle and the admin
 * view — needs from the asynchronous path. Provided (as `ASYNC_ORDERS`, by `AsyncOrderModule`) only
 * with ORDER_MODE=async; inject it `@Optional()`: in sync mode it is absent, and so is every provider
 * of that path.
 */
export interface AsyncOrders {
  /** Accepts one order; resolves with its id once it is durably in the voucher's stream (202). */
  seckill(request: SaleRequest): Promise<string>;
  /** An order that is not in MySQL: pending or failed, if it is its caller's (or the caller is an admin). */
  lookup(orderId: string, user: AuthUser): Promise<OrderLookup | null>;
  /** Where a sale's accepted orders are on their way to MySQL (admin view). */
  backlog(voucherId: string): Promise<AsyncSaleBacklog>;
}

/** Injection token of the asynchronous path's `AsyncOrders` (async mode only). */
export const ASYNC_ORDERS = Symbol('ASYNC_ORDERS');
