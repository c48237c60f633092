import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { affectedRows } from '../database/affected-rows';
import { SeckillVoucher } from './seckill-voucher.entity';
import { Voucher } from './voucher.entity';

export type VoucherWithSale = Voucher & { seckill?: SeckillVoucher };

/** MySQL access for vouchers; joins the active transaction if there is one. */
@Injectable()
export class VoucherRepository {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    // Reads that must not join the caller's transaction (`committedStock`).
    private readonly dataSource: DataSource,
  ) {}

  private get vouchers() {
    return this.txHost.tx.getRepository(Voucher);
  }

  private get seckills() {
    return this.txHost.tx.getRepository(SeckillVoucher);
  }

  async insertVoucher(voucher: Partial<Voucher>): Promise<string> {
    const result = await this.vouchers.insert(voucher);
    return String(result.identifiers[0].id);
  }

  async insertSeckill(seckill: Pick<SeckillVoucher, 'voucherId' | 'stock' | 'beginTime' | 'endTime'>): Promise<void> {
    await this.seckills.insert(seckill);
  }

  async findSeckill(voucherId: string): Promise<SeckillVoucher | null> {
    return this.seckills.findOneBy({ voucherId });
  }

  async findWithSale(id: string): Promise<VoucherWithSale | null> {
    const voucher = await this.vouchers.findOneBy({ id });
    if (!voucher) {
      return null;
    }
    return { ...voucher, seckill: (await this.seckills.findOneBy({ voucherId: id })) ?? undefined };
  }

  async listByShop(shopId: string): Promise<VoucherWithSale[]> {
    const vouchers = await this.vouchers.find({ where: { shopId }, order: { id: 'ASC' } });
    const seckills = vouchers.length
      ? await this.seckills
          .createQueryBuilder('s')
          .where('s.voucher_id IN (:...ids)', { ids: vouchers.map((voucher) => voucher.id) })
          .getMany()
      : [];
    const byId = new Map(seckills.map((seckill) => [seckill.voucherId, seckill]));
    return vouchers.map((voucher) => ({ ...voucher, seckill: byId.get(voucher.id) }));
  }

  /**
   * The oversell guard: one atomic conditional decrement. False when no stock is left.
   * Takes the row lock until the transaction ends, so keep it late in the transaction.
   * This is seed 002's optimistic lock (乐观锁) in its simplest form — a compare-and-set on the value
   * itself (`stock > 0`) instead of a version column — and it is not a lock: it excludes no critical
   * section, it only refuses the write that would oversell (see packages/lock/README.md).
   */
  async decrementStock(voucherId: string): Promise<boolean> {
    const result: unknown = await this.txHost.tx.query(
      'UPDATE tb_seckill_voucher SET stock = stock - 1 WHERE voucher_id = ? AND stock > 0',
      [voucherId],
    );
    return affectedRows(result) === 1;
  }

  /**
   * Units given back (cancelled or lapsed orders): `stock + units`. Joins the transaction that
   * cancels the orders, so the unit comes back in MySQL if and only if the cancellation commits.
   */
  async incrementStock(voucherId: string, units: number): Promise<void> {
    await this.txHost.tx.query('UPDATE tb_seckill_voucher SET stock = stock + ? WHERE voucher_id = ?', [
      units,
      voucherId,
    ]);
  }

  /**
   * The stock as last committed, read outside any open transaction (whose snapshot may be older);
   * null if the voucher has no seckill row.
   */
  async committedStock(voucherId: string): Promise<number | null> {
    const rows = await this.dataSource.query<{ stock: number | string }[]>(
      'SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?',
      [voucherId],
    );
    return rows.length === 0 ? null : Number(rows[0].stock);
  }

  /** Whether the voucher's sale is still running by the database's clock. */
  async saleRunning(voucherId: string): Promise<boolean> {
    const rows: unknown[] = await this.txHost.tx.query(
      'SELECT 1 FROM tb_seckill_voucher WHERE voucher_id = ? AND begin_time <= NOW(3) AND end_time > NOW(3)',
      [voucherId],
    );
    return rows.length > 0;
  }

  /** Seckill vouchers whose sale has not ended more than `graceMs` ago (for reconciliation). */
  async activeSeckills(now: Date, graceMs: number): Promise<SeckillVoucher[]> {
    return this.seckills
      .createQueryBuilder('s')
      .where('s.end_time > :since', { since: new Date(now.getTime() - graceMs) })
      .getMany();
  }
}
