import type { BatchOrder } from './order-batch.repository';

/** The one conditional stock UPDATE for a batch's orders: `count`, the voucher, `count`. */
export const TAKE_STOCK_SQL = 'UPDATE tb_seckill_voucher SET stock = stock - ? WHERE voucher_id = ? AND stock >= ?';

/**
 * The multi-row INSERT of a batch's orders, as SQL with `?` placeholders and their values. The
 * payment deadline counts from the order's acceptance (its stream entry's time), not from when a
 * consumer got to it; without an entry id (a synchronous order), from now.
 */
export function batchInsert(
  voucherId: string,
  orders: BatchOrder[],
  paymentTimeoutMs: number,
): { sql: string; values: (string | Date)[] } {
  const values: (string | Date)[] = [];
  const rows: string[] = [];
  for (const order of orders) {
    const acceptedMs = order.streamId ? Number(order.streamId.split('-')[0]) : NaN;
    if (Number.isFinite(acceptedMs)) {
      values.push(order.orderId, order.userId, voucherId, new Date(acceptedMs + paymentTimeoutMs));
      rows.push('(?, ?, ?, ?)');
    } else {
      values.push(order.orderId, order.userId, voucherId);
      rows.push(`(?, ?, ?, CURRENT_TIMESTAMP(3) + INTERVAL ${paymentTimeoutMs * 1000} MICROSECOND)`);
    }
  }
  return {
    sql: `INSERT INTO tb_voucher_order (id, user_id, voucher_id, pay_deadline) VALUES ${rows.join(', ')}`,
    values,
  };
}
