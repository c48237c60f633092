import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { appConfig, type AppConfig } from '../config/app-config';
import { VoucherService } from '../voucher/voucher.service';
import { ASYNC_ORDERS, type AsyncOrders } from './async-orders';
import { toOrderResponse, type VoucherOrderResponse } from './dto/voucher-order.response';
import type { SaleOrders } from './dto/sale-orders.response';
import { OrderNotFoundError } from './order.errors';
import { OrderRepository } from './order.repository';
import type { VoucherOrder } from './voucher-order.entity';

/**
 * Reading orders back: one order for its owner (`GET /voucher-order/:id`) and a sale's orders for the
 * admin view — in MySQL and, in async mode, on their way there (through `ASYNC_ORDERS`).
 */
@Injectable()
export class OrderLookupService {
  constructor(
    private readonly orders: OrderRepository,
    private readonly vouchers: VoucherService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    /** Async mode only (AsyncOrderModule). */
    @Optional() @Inject(ASYNC_ORDERS) private readonly asyncOrders?: AsyncOrders,
  ) {}

  /** A sale's orders in MySQL (by status), units given back, and in async mode those still on their way (admin view). */
  async saleOrders(voucherId: string): Promise<SaleOrders> {
    const [byStatus, returnedUnits, pending] = await Promise.all([
      this.orders.countByStatus(voucherId),
      this.vouchers.returnedUnits(voucherId),
      this.asyncOrders ? this.asyncOrders.backlog(voucherId) : null,
    ]);
    const mysqlOrders = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
    return { mysqlOrders, byStatus, returnedUnits, async: pending };
  }

  /**
   * An order of the caller (admins: any): from MySQL (`state` CREATED, with the seed's numeric
   * `status`), else, in async mode, from Redis (PENDING: accepted, not yet persisted; FAILED:
   * dead-lettered).
   *
   * Async: a consumer commits an order and only then clears it from Redis' pending hash, so a lookup
   * whose MySQL read came just before the COMMIT and whose Redis read just after the settle finds
   * neither. Redis finding nothing therefore means "committed, or never accepted": MySQL is read
   * once more, so an order that was answered 202 is never answered 404 while it is being committed.
   */
  async findForUser(id: string, user: AuthUser): Promise<VoucherOrderResponse> {
    const order = await this.orders.findById(id);
    if (order) {
      return createdFor(order, user);
    }
    if (!this.asyncOrders) {
      throw new OrderNotFoundError(`Order ${id} does not exist`);
    }
    if (this.config.ORDER_TEST_LOOKUP_PAUSE_MS > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.config.ORDER_TEST_LOOKUP_PAUSE_MS));
    }
    const unpersisted = await this.asyncOrders.lookup(id, user);
    if (unpersisted) {
      return {
        id,
        userId: unpersisted.userId,
        voucherId: unpersisted.voucherId,
        state: unpersisted.state,
        status: unpersisted.state,
        ...(unpersisted.reason ? { reason: unpersisted.reason } : {}),
      };
    }
    // The settle that cleared it from Redis ran after its COMMIT: a read now sees the row.
    const committed = this.config.ORDER_UNSAFE_LOOKUP_WITHOUT_REREAD ? null : await this.orders.findById(id);
    if (committed) {
      return createdFor(committed, user);
    }
    throw new OrderNotFoundError(`Order ${id} does not exist`);
  }
}

/** A committed order as its owner (or an admin) sees it; someone else's is reported missing, not forbidden. */
function createdFor(order: VoucherOrder, user: AuthUser): VoucherOrderResponse {
  // Ids must not leak existence: another user's order is a 404 like an unknown id.
  if (user.role !== 'admin' && order.userId !== user.id) {
    throw new OrderNotFoundError(`Order ${order.id} does not exist`);
  }
  return toOrderResponse(order);
}
