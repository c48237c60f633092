import { mysqlError } from '../database/database-errors';
import type { BatchOrder } from './order-batch.repository';

/** The one conditional stock UPDATE for a batch's orders: `count`, the voucher, `count`. */
export const TAKE_STOCK_SQL = 'UPDATE tb_seckill_voucher SET stock = stock - ? WHERE voucher_id = ? AND stock >= ?';

/**
 * Starts a batch's time budget on the database's clock: `?` = the microseconds it may still take
 * (its members' nearest request deadline), read by STOCK_TAKEN_IN_TIME_OR_FAIL_SQL.
 */
export const BATCH_DEADLINE_SQL = 'SET @batch_deadline = SYSDATE(6) + INTERVAL ? MICROSECOND';

/**
 * Fails unless the statement before it changed exactly one row (after TAKE_STOCK_SQL: the stock was
 * taken) and the database's clock is still within BATCH_DEADLINE_SQL's budget (a wait for the stock
 * row's lock did not outlast it), so that the statements after it in the same multi-statement query
 * (a COMMIT) do not run. MySQL and MariaDB have no SIGNAL outside stored programs, and `DO` turns
 * errors into warnings: a scalar subquery that finds two rows is the portable error (1242, "Subquery
 * returns more than 1 row"; `isStockNotTakenInTime`). SYSDATE, not NOW: the time it runs, not the
 * time its statement started.
 */
export const STOCK_TAKEN_IN_TIME_OR_FAIL_SQL =
  'SELECT (SELECT 1 FROM (SELECT 1 AS one UNION ALL SELECT 2) AS twice ' +
  'WHERE ROW_COUNT() <> 1 OR SYSDATE(6) > @batch_deadline) AS stock_not_taken_in_time';

/** The error of STOCK_TAKEN_IN_TIME_OR_FAIL_SQL: the stock was not taken, or not in time. */
export const isStockNotTakenInTime = (error: unknown): boolean => mysqlError(error).errno === 1242;

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
