import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { mysqlError } from '../database/database-errors';
import { VoucherOrder } from './voucher-order.entity';

/** The unique key violation that backs "one order per user" in the database. */
export class DuplicateOrderError extends Error {
  override readonly name = DuplicateOrderError.name;
}

/** The primary key is taken: the id was handed out before (the id counter went back), not a repeat order. */
export class OrderIdCollisionError extends Error {
  override readonly name = OrderIdCollisionError.name;
}

/** Which key a duplicate-key error is about: MySQL/MariaDB name it in the message ("for key 'PRIMARY'"). */
const isPrimaryKey = (error: unknown) => {
  const driver = mysqlError(error);
  return /for key '(?:[\w]+\.)?PRIMARY'/.test(driver.sqlMessage ?? driver.message ?? '');
};

/** A duplicate-key error (primary or unique key), wrapped by TypeORM or not. */
export const isDuplicateKey = (error: unknown) =>
  (error as { code?: string } | null)?.code === 'ER_DUP_ENTRY' || mysqlError(error).code === 'ER_DUP_ENTRY';

/** MySQL access for orders; joins the active transaction. */
@Injectable()
export class OrderRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** The id of the user's live order of this voucher (not cancelled or refunded), if any. */
  async findLiveId(userId: string, voucherId: string): Promise<string | undefined> {
    const rows: { id: string }[] = await this.txHost.tx.query(
      'SELECT id FROM tb_voucher_order WHERE live_user_id = ? AND voucher_id = ? LIMIT 1',
      [userId, voucherId],
    );
    return rows.length > 0 ? String(rows[0].id) : undefined;
  }

  /** One page of a user's orders, newest (highest id) first, below `cursor` if given. */
  async listForUser(query: {
    userId: string;
    voucherId?: string;
    status?: number;
    cursor?: string;
    limit: number;
  }): Promise<VoucherOrder[]> {
    const where = ['user_id = :userId'];
    if (query.voucherId !== undefined) {
      where.push('voucher_id = :voucherId');
    }
    if (query.status !== undefined) {
      where.push('status = :status');
    }
    if (query.cursor !== undefined) {
      where.push('id < :cursor');
    }
    return this.txHost.tx
      .getRepository(VoucherOrder)
      .createQueryBuilder('o')
      .where(where.join(' AND '), query)
      .orderBy('o.id', 'DESC')
      .limit(query.limit)
      .getMany();
  }

  async countByVoucher(voucherId: string): Promise<number> {
    const rows: { n: string | number }[] = await this.txHost.tx.query(
      'SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ?',
      [voucherId],
    );
    return Number(rows[0].n);
  }

  /** A sale's orders per status (admin view). */
  async countByStatus(voucherId: string): Promise<Record<string, number>> {
    const rows: { status: number; n: string | number }[] = await this.txHost.tx.query(
      'SELECT status, COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ? GROUP BY status',
      [voucherId],
    );
    return Object.fromEntries(rows.map((row) => [String(row.status), Number(row.n)]));
  }

  /**
   * Inserts an unpaid order due for payment `paymentTimeoutMs` after its creation (the database's
   * clock); a second live order of the same user for the same voucher throws DuplicateOrderError.
   */
  async insert(order: { id: string; userId: string; voucherId: string; paymentTimeoutMs: number }): Promise<void> {
    try {
      await this.txHost.tx.query(
        `INSERT INTO tb_voucher_order (id, user_id, voucher_id, pay_deadline)
         VALUES (?, ?, ?, CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND)`,
        [order.id, order.userId, order.voucherId, order.paymentTimeoutMs * 1000],
      );
    } catch (error) {
      if (isDuplicateKey(error) && isPrimaryKey(error)) {
        throw new OrderIdCollisionError(`Order id ${order.id} is taken`, { cause: error });
      }
      if (isDuplicateKey(error)) {
        throw new DuplicateOrderError(`User ${order.userId} already has an order for voucher ${order.voucherId}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  findById(id: string): Promise<VoucherOrder | null> {
    return this.txHost.tx.getRepository(VoucherOrder).findOneBy({ id });
  }
}
