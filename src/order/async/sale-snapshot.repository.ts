import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { parseUnits } from '../lifecycle/stock-return.outbox';

/**
 * The rebuild's read of MySQL (`SaleRebuilder`): one sale as of one consistent snapshot. It reads the
 * sale's row and its orders and outstanding returns together, which no single module's repository
 * could do in one transaction.
 */
@Injectable()
export class SaleSnapshotRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * A consistent snapshot of one sale in MySQL (one REPEATABLE READ transaction): its stock, every
   * order's id and buyer, the buyers of live orders, and the returns whose Redis half is still owed
   * (their units are in that stock already). Null if the voucher has no seckill row.
   */
  async snapshot(voucherId: string): Promise<{
    stock: number;
    beginTime: Date;
    endTime: Date;
    orders: { orderId: string; userId: string }[];
    liveBuyers: string[];
    returnsInFlight: string[];
  } | null> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      // A consistent snapshot needs REPEATABLE READ, whatever the server's default isolation is.
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await runner.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      try {
        const [sale] = (await runner.query(
          'SELECT stock, begin_time AS beginTime, end_time AS endTime FROM tb_seckill_voucher WHERE voucher_id = ?',
          [voucherId],
        )) as { stock: number; beginTime: Date; endTime: Date }[];
        if (!sale) {
          return null;
        }
        const rows = (await runner.query(
          'SELECT id, user_id AS userId, live_user_id AS liveUserId FROM tb_voucher_order WHERE voucher_id = ?',
          [voucherId],
        )) as { id: string; userId: string; liveUserId: string | null }[];
        const returns = (await runner.query('SELECT units FROM tb_stock_return WHERE voucher_id = ?', [voucherId])) as {
          units: string;
        }[];
        return {
          stock: Number(sale.stock),
          beginTime: new Date(sale.beginTime),
          endTime: new Date(sale.endTime),
          orders: rows.map((row) => ({ orderId: String(row.id), userId: String(row.userId) })),
          liveBuyers: rows.filter((row) => row.liveUserId !== null).map((row) => String(row.userId)),
          returnsInFlight: returns.flatMap((row) => parseUnits(voucherId, row.units).map((unit) => unit.orderId)),
        };
      } finally {
        await runner.query('COMMIT').catch(() => undefined);
      }
    } finally {
      await runner.release().catch(() => undefined);
    }
  }
}
