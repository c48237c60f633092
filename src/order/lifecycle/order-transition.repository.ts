import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { affectedRows } from '../../database/affected-rows';
import { OrderStatus, type CancelReason } from '../voucher-order.entity';

/** An order whose unit goes back to its sale. */
export interface ReturningOrder {
  orderId: string;
  userId: string;
  voucherId: string;
}

/** An unpaid order claimed for expiry, and how late (ms, by the database's clock) it is. */
export interface ExpiringOrder extends ReturningOrder {
  lateMs: number;
}

/**
 * The order lifecycle's writes (pay's is `PayBatcher`'s, several orders per statement): each
 * transition is one conditional UPDATE (`… WHERE id = ? AND status = <from>`), so of two concurrent
 * transitions of one order exactly one changes a row; the caller reads the order back to tell the
 * loser why. Deadlines are compared with the database's
 * clock (`NOW(3)`), the one clock that decides pay against expiry. Joins the active transaction.
 */
@Injectable()
export class OrderTransitionRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** unpaid → cancelled by its buyer. */
  async cancel(orderId: string, userId: string, reason: CancelReason): Promise<boolean> {
    return this.update(
      `UPDATE tb_voucher_order SET status = ${OrderStatus.Cancelled}, cancel_reason = ?, cancel_time = NOW(3)
       WHERE id = ? AND user_id = ? AND status = ${OrderStatus.Unpaid}`,
      [reason, orderId, userId],
    );
  }

  /** paid → used (the shop wrote the coupon off). */
  async use(orderId: string): Promise<boolean> {
    return this.update(
      `UPDATE tb_voucher_order SET status = ${OrderStatus.Used}, use_time = NOW(3)
       WHERE id = ? AND status = ${OrderStatus.Paid}`,
      [orderId],
    );
  }

  /** paid or used → refunded. */
  async refund(orderId: string): Promise<boolean> {
    return this.update(
      `UPDATE tb_voucher_order SET status = ${OrderStatus.Refunded}, refund_time = NOW(3)
       WHERE id = ? AND status IN (${OrderStatus.Paid}, ${OrderStatus.Used})`,
      [orderId],
    );
  }

  /**
   * Claims up to `limit` unpaid orders past their deadline, oldest deadline first, locking their rows
   * until the transaction ends; rows another replica's expiry holds are skipped (`SKIP LOCKED`), so
   * concurrent sweeps share the work instead of queueing on it, and a pay waiting on a claimed row
   * finds it cancelled.
   */
  async claimExpired(limit: number): Promise<ExpiringOrder[]> {
    const rows: { id: string; userId: string; voucherId: string; lateUs: string | number }[] =
      await this.txHost.tx.query(
        `SELECT id, user_id AS userId, voucher_id AS voucherId,
              TIMESTAMPDIFF(MICROSECOND, pay_deadline, NOW(3)) AS lateUs
       FROM tb_voucher_order
       WHERE status = ${OrderStatus.Unpaid} AND pay_deadline <= NOW(3)
       ORDER BY pay_deadline LIMIT ? FOR UPDATE SKIP LOCKED`,
        [limit],
      );
    return rows.map((row) => ({
      orderId: String(row.id),
      userId: String(row.userId),
      voucherId: String(row.voucherId),
      lateMs: Number(row.lateUs) / 1000,
    }));
  }

  /** unpaid → cancelled (EXPIRED) for orders this transaction claimed. Returns how many changed. */
  async expire(orderIds: string[]): Promise<number> {
    if (orderIds.length === 0) {
      return 0;
    }
    const result: unknown = await this.txHost.tx.query(
      `UPDATE tb_voucher_order SET status = ${OrderStatus.Cancelled}, cancel_reason = 'EXPIRED', cancel_time = NOW(3)
       WHERE id IN (${orderIds.map(() => '?').join(', ')}) AND status = ${OrderStatus.Unpaid}`,
      orderIds,
    );
    return affectedRows(result);
  }

  private async update(sql: string, params: unknown[]): Promise<boolean> {
    return affectedRows(await this.txHost.tx.query(sql, params)) === 1;
  }
}
