import { Inject, Injectable, Optional } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AuthUser } from '../../auth/auth-user';
import { appConfig, type AppConfig } from '../../config/app-config';
import { VoucherService } from '../../voucher/voucher.service';
import { ASYNC_ORDERS, type AsyncOrders } from '../async-orders';
import { toOrderResponse, type OrderPage, type VoucherOrderResponse } from '../dto/voucher-order.response';
import { OrderNotFoundError } from '../order.errors';
import { OrderRepository } from '../order.repository';
import { OrderStatus, type VoucherOrder } from '../voucher-order.entity';
import { LifecycleMetrics } from './lifecycle.metrics';
import {
  OrderNotCancellableError,
  OrderNotPayableError,
  OrderNotRefundableError,
  OrderNotUsableError,
  OrderPendingError,
} from './order-lifecycle.errors';
import { OrderTransitionRepository, type ReturningOrder } from './order-transition.repository';
import { PayBatcher } from './pay.batcher';
import { StockReturnOutbox, type StockReturn } from './stock-return.outbox';
import { StockReturnRelay } from './stock-return.relay';

/**
 * After the sale: pay, cancel, use (write-off) and refund. Each transition is one conditional UPDATE
 * in MySQL, so concurrent transitions of one order have one winner; the loser is told the order's
 * current state (409). A transition that frees a unit (cancel; a refund if ORDER_REFUND_RETURNS_STOCK)
 * adds it to MySQL's stock and writes an outbox row in the same transaction; the Redis half is
 * relayed after COMMIT, exactly once per order (`StockReturnRelay`).
 */
@Injectable()
export class OrderLifecycleService {
  constructor(
    private readonly orders: OrderRepository,
    private readonly transitions: OrderTransitionRepository,
    private readonly payments: PayBatcher,
    private readonly outbox: StockReturnOutbox,
    private readonly relay: StockReturnRelay,
    private readonly vouchers: VoucherService,
    private readonly metrics: LifecycleMetrics,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    /** Async mode only (AsyncOrderModule). */
    @Optional() @Inject(ASYNC_ORDERS) private readonly asyncOrders?: AsyncOrders,
  ) {}

  /** unpaid → paid (the caller's order, before its deadline); paying a paid order again changes nothing. */
  async pay(orderId: string, user: AuthUser, payType: number): Promise<VoucherOrderResponse> {
    const found = await this.payments.pay(orderId, user.id, payType);
    const order = found && found.userId === user.id ? found : await this.existingOrder(orderId, user);
    if (order.status === OrderStatus.Paid) {
      return toOrderResponse(order);
    }
    throw new OrderNotPayableError(
      order.status === OrderStatus.Unpaid ? 'The payment deadline has passed' : 'The order cannot be paid',
      toOrderResponse(order),
    );
  }

  /** unpaid → cancelled (USER); its unit goes back to the sale. */
  async cancel(orderId: string, user: AuthUser): Promise<VoucherOrderResponse> {
    const cancelled = await this.txHost.withTransaction(async () => {
      if (!(await this.transitions.cancel(orderId, user.id, 'USER'))) {
        return null;
      }
      const order = await this.read(orderId);
      return { order, returns: await this.giveBack(order) };
    });
    if (!cancelled) {
      const order = await this.existingOrder(orderId, user);
      throw new OrderNotCancellableError('Only an unpaid order can be cancelled', toOrderResponse(order));
    }
    this.metrics.transitions.inc({ transition: 'cancel' });
    await this.relayAfterCommit(cancelled.returns);
    return toOrderResponse(cancelled.order);
  }

  /** paid → used (admin: the shop wrote the coupon off). */
  async use(orderId: string): Promise<VoucherOrderResponse> {
    if (!(await this.transitions.use(orderId))) {
      const order = await this.existingOrder(orderId);
      throw new OrderNotUsableError('Only a paid order can be used', toOrderResponse(order));
    }
    this.metrics.transitions.inc({ transition: 'use' });
    return toOrderResponse(await this.read(orderId));
  }

  /** paid or used → refunded (admin); the unit goes back only if configured and the sale still runs. */
  async refund(orderId: string): Promise<VoucherOrderResponse> {
    const refunded = await this.txHost.withTransaction(async () => {
      if (!(await this.transitions.refund(orderId))) {
        return null;
      }
      const order = await this.read(orderId);
      const givesBack = this.config.ORDER_REFUND_RETURNS_STOCK && (await this.vouchers.saleRunning(order.voucherId));
      return { order, returns: givesBack ? await this.giveBack(order) : [] };
    });
    if (!refunded) {
      const order = await this.existingOrder(orderId);
      throw new OrderNotRefundableError('Only a paid or used order can be refunded', toOrderResponse(order));
    }
    this.metrics.transitions.inc({ transition: 'refund' });
    if (refunded.returns.length > 0) {
      await this.relayAfterCommit(refunded.returns);
    }
    return toOrderResponse(refunded.order);
  }

  /** The caller's orders in MySQL, newest first, one page after `cursor`. */
  async list(
    user: AuthUser,
    query: { voucherId?: string; status?: number; cursor?: string; limit: number },
  ): Promise<OrderPage> {
    const rows = await this.orders.listForUser({ ...query, userId: user.id, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(toOrderResponse),
      nextCursor: rows.length > query.limit ? page[page.length - 1].id : null,
    };
  }

  /** Inside the cancelling transaction: MySQL's stock + 1 and the outbox row for the Redis half. */
  private async giveBack(order: VoucherOrder): Promise<StockReturn[]> {
    const units = [returning(order)];
    const returns = this.config.ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX
      ? [{ id: null, voucherId: order.voucherId, units }]
      : await this.outbox.add(units);
    await this.vouchers.restock(order.voucherId, 1);
    return returns;
  }

  private async relayAfterCommit(returns: StockReturn[]): Promise<void> {
    if (this.config.ORDER_TEST_RETURN_DELAY_MS > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.config.ORDER_TEST_RETURN_DELAY_MS));
    }
    await this.relay.relay(returns);
  }

  private async read(orderId: string): Promise<VoucherOrder> {
    const order = await this.orders.findById(orderId);
    if (!order) {
      throw new OrderNotFoundError(`Order ${orderId} does not exist`);
    }
    return order;
  }

  /**
   * The order in MySQL — the caller's own, or any for an admin route (`user` undefined). Async: 409
   * ORDER_PENDING while it is accepted but not yet there. Someone else's order is reported as missing,
   * not forbidden: ids must not leak existence.
   */
  private async existingOrder(orderId: string, user?: AuthUser): Promise<VoucherOrder> {
    const order = await this.orders.findById(orderId);
    if (order && (!user || order.userId === user.id)) {
      return order;
    }
    if (!order && this.asyncOrders) {
      const unpersisted = await this.asyncOrders.lookup(orderId, user ?? { id: '0', role: 'admin' });
      if (unpersisted?.state === 'PENDING' && (!user || unpersisted.userId === user.id)) {
        throw new OrderPendingError('The order is still being placed; try again in a moment');
      }
    }
    throw new OrderNotFoundError(`Order ${orderId} does not exist`);
  }
}

function returning(order: VoucherOrder): ReturningOrder {
  return { orderId: order.id, userId: order.userId, voucherId: order.voucherId };
}
