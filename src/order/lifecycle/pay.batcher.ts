import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { affectedRows } from '../../database/affected-rows';
import { OrderRepository } from '../order.repository';
import { OrderStatus, type VoucherOrder } from '../voucher-order.entity';
import { LifecycleMetrics } from './lifecycle.metrics';

/**
 * The most payments one statement carries: a row held by an expiry batch makes the whole statement
 * wait (and a failure answers all of them 503), so batches stay small.
 */
const MAX_BATCH = 64;

interface PendingPay {
  orderId: string;
  userId: string;
  payType: number;
  resolve: (order: VoucherOrder | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Payments that arrive in the same event-loop turn share two statements instead of two each: one
 * conditional UPDATE — every row still changes only `WHERE id = ? AND user_id = ? AND status = 1
 * AND pay_deadline > NOW(3)`, so a pay racing its expiry is decided per order by the database's clock
 * — and one read of the orders as they are after it. A paid order answers the same whether this
 * statement or an earlier one paid it (paying twice changes nothing), so nobody needs to know which
 * row the UPDATE changed. On this machine a MySQL statement costs the replica about as much in socket
 * writes as everything else a pay does.
 */
@Injectable()
export class PayBatcher {
  private queue: PendingPay[] = [];

  constructor(
    private readonly orders: OrderRepository,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly metrics: LifecycleMetrics,
  ) {}

  /** Pays the order if it is the user's, unpaid and before its deadline; resolves with the order as it is then. */
  pay(orderId: string, userId: string, payType: number): Promise<VoucherOrder | null> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) {
        setImmediate(() => void this.flush());
      }
      this.queue.push({ orderId, userId, payType, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) {
      setImmediate(() => void this.flush());
    }
    try {
      const params: (string | number)[] = [];
      for (const pay of batch) {
        params.push(pay.orderId, pay.payType);
      }
      for (const pay of batch) {
        params.push(pay.orderId, pay.userId);
      }
      const result: unknown = await this.txHost.tx.query(
        `UPDATE tb_voucher_order
         SET status = ${OrderStatus.Paid}, pay_time = NOW(3),
             pay_type = CASE id ${batch.map(() => 'WHEN ? THEN ?').join(' ')} END
         WHERE (${batch.map(() => '(id = ? AND user_id = ?)').join(' OR ')})
           AND status = ${OrderStatus.Unpaid} AND pay_deadline > NOW(3)`,
        params,
      );
      this.metrics.transitions.inc({ transition: 'pay' }, affectedRows(result));
      const found = new Map(
        (await this.orders.findByIds(batch.map((pay) => pay.orderId))).map((order) => [order.id, order]),
      );
      for (const pay of batch) {
        pay.resolve(found.get(pay.orderId) ?? null);
      }
    } catch (error) {
      for (const pay of batch) {
        pay.reject(error);
      }
    }
  }
}
