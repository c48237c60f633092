import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { ReturningOrder } from './order-transition.repository';

/**
 * `tb_stock_return`, the outbox of units given back. A row is written in the same transaction that
 * cancels its order and adds the unit to MySQL's stock; it is deleted once the unit is back in
 * Redis. A replica that dies in between leaves the row for the periodic relay of any replica, and
 * the Redis side records each order id it returned, so relaying a row twice returns it once.
 */
@Injectable()
export class StockReturnOutbox {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** Inside the cancelling transaction. */
  async add(orders: ReturningOrder[]): Promise<void> {
    if (orders.length === 0) {
      return;
    }
    const values: string[] = [];
    for (const order of orders) {
      values.push(order.orderId, order.voucherId, order.userId);
    }
    await this.txHost.tx.query(
      `INSERT INTO tb_stock_return (order_id, voucher_id, user_id) VALUES ${orders.map(() => '(?, ?, ?)').join(', ')}`,
      values,
    );
  }

  /** Rows older than `minAgeMs` (by the database's clock): left by a replica that did not relay them. */
  async stale(minAgeMs: number, limit: number): Promise<ReturningOrder[]> {
    const rows: { orderId: string; voucherId: string; userId: string }[] = await this.txHost.tx.query(
      `SELECT order_id AS orderId, voucher_id AS voucherId, user_id AS userId FROM tb_stock_return
       WHERE create_time <= NOW(3) - INTERVAL ? MICROSECOND ORDER BY create_time LIMIT ?`,
      [minAgeMs * 1000, limit],
    );
    return rows.map((row) => ({
      orderId: String(row.orderId),
      voucherId: String(row.voucherId),
      userId: String(row.userId),
    }));
  }

  /** Order ids of one sale whose Redis return is still owed (a rebuild marks them as returned). */
  async pendingFor(voucherId: string): Promise<string[]> {
    const rows: { orderId: string }[] = await this.txHost.tx.query(
      'SELECT order_id AS orderId FROM tb_stock_return WHERE voucher_id = ?',
      [voucherId],
    );
    return rows.map((row) => String(row.orderId));
  }

  async remove(orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) {
      return;
    }
    await this.txHost.tx.query(
      `DELETE FROM tb_stock_return WHERE order_id IN (${orderIds.map(() => '?').join(', ')})`,
      orderIds,
    );
  }
}
