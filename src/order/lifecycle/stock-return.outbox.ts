import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { groupByVoucher } from '../group-by-voucher';
import type { ReturningOrder } from './order-transition.repository';

/** One outbox row: the units of one voucher that one transaction gave back (`id` null: no row). */
export interface StockReturn {
  id: string | null;
  voucherId: string;
  units: ReturningOrder[];
}

/**
 * `tb_stock_return`, the outbox of units given back: one row per voucher and cancelling transaction,
 * written in that transaction (with the cancellation and MySQL's `stock + n`), deleted once its
 * units are back in Redis. A replica that dies in between leaves the row for the periodic relay of
 * any replica, and the Redis side records each order id it returned, so a row relayed twice returns
 * each unit once. One row per batch, not per order: an expiry batch of 2,000 orders writes and
 * deletes one row.
 */
@Injectable()
export class StockReturnOutbox {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** Inside the cancelling transaction: one row per voucher of `orders`. */
  async add(orders: ReturningOrder[]): Promise<StockReturn[]> {
    const rows: StockReturn[] = [];
    for (const [voucherId, units] of groupByVoucher(orders)) {
      const result: unknown = await this.txHost.tx.query(
        'INSERT INTO tb_stock_return (voucher_id, units) VALUES (?, ?)',
        [voucherId, units.map((unit) => `${unit.orderId}:${unit.userId}`).join(',')],
      );
      rows.push({ id: insertId(result), voucherId, units });
    }
    return rows;
  }

  /** Rows older than `minAgeMs` (by the database's clock): left by a replica that did not relay them. */
  async stale(minAgeMs: number, limit: number): Promise<StockReturn[]> {
    const rows: { id: string; voucherId: string; units: string }[] = await this.txHost.tx.query(
      `SELECT id, voucher_id AS voucherId, units FROM tb_stock_return
       WHERE create_time <= NOW(3) - INTERVAL ? MICROSECOND ORDER BY id LIMIT ?`,
      [minAgeMs * 1000, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      voucherId: String(row.voucherId),
      units: parseUnits(String(row.voucherId), row.units),
    }));
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length > 0) {
      await this.txHost.tx.query(`DELETE FROM tb_stock_return WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
    }
  }
}

/** `orderId:userId,…` → the units of one voucher. */
export function parseUnits(voucherId: string, units: string): ReturningOrder[] {
  return units
    .split(',')
    .filter(Boolean)
    .map((unit) => {
      const [orderId, userId] = unit.split(':');
      return { orderId, userId, voucherId };
    });
}

/** mysql2 answers INSERT with a ResultSetHeader; TypeORM may wrap it in an array. */
function insertId(result: unknown): string {
  const header = (Array.isArray(result) ? result[0] : result) as { insertId?: number | string };
  if (header?.insertId === undefined) {
    throw new Error('INSERT INTO tb_stock_return returned no insertId');
  }
  return String(header.insertId);
}
