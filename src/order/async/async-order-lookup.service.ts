import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../auth/auth-user';
import type { OrderLookup } from '../async-orders';
import type { AsyncSaleBacklog } from '../dto/sale-orders.response';
import { ActiveSales } from './active-sales';
import { OrderStreamQueries } from './order-stream.queries';

/**
 * Accepted orders on their way to MySQL, read from Redis: one order's state while it is not in MySQL
 * (PENDING, FAILED) for its owner, and a sale's backlog for the admin view.
 */
@Injectable()
export class AsyncOrderLookupService {
  constructor(
    private readonly queries: OrderStreamQueries,
    private readonly sales: ActiveSales,
  ) {}

  /** An order that is not in MySQL: pending or failed, if it is its caller's (or the caller is an admin). */
  async lookup(orderId: string, user: AuthUser): Promise<OrderLookup | null> {
    const found =
      (await this.queries.lookup(orderId, await this.sales.list())) ??
      // A sale created within the last second may not be listed yet.
      (await this.queries.lookup(orderId, await this.sales.fresh()));
    return found && (user.role === 'admin' || found.userId === user.id) ? found : null;
  }

  /** Where a sale's accepted orders are on their way to MySQL (admin view). */
  async backlog(voucherId: string): Promise<AsyncSaleBacklog> {
    const [group, orders] = await Promise.all([this.queries.backlog(voucherId), this.queries.orderCounts(voucherId)]);
    return {
      streamLength: group.length,
      pendingOrders: orders.pending,
      delivered: group.pending,
      undelivered: group.lag,
      deadLettered: orders.failed,
    };
  }
}
