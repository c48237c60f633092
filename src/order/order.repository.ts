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

const ORDER_COLUMNS =
  'id, user_id AS userId, voucher_id AS voucherId, pay_type AS payType, status, create_time AS createTime, ' +
  'pay_deadline AS payDeadline, pay_time AS payTime, use_time AS useTime, refund_time AS refundTime, ' +
  'cancel_reason AS cancelReason, cancel_time AS cancelTime, update_time AS updateTime';

type OrderRow = Omit<VoucherOrder, 'id' | 'userId' | 'voucherId'> & {
  id: string | number;
  userId: string | number;
  voucherId: string | number;
};

function toOrder(row: OrderRow): VoucherOrder {
  return Object.assign(new VoucherOrder(), {
    ...row,
    id: String(row.id),
    userId: String(row.userId),
    voucherId: String(row.voucherId),
    payType: Number(row.payType),
    status: Number(row.status),
  });
}

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

  /** Orders by id (any that exist). */
  async findByIds(ids: string[]): Promise<VoucherOrder[]> {
    if (ids.length === 0) {
      return [];
    }
    const rows: OrderRow[] = await this.txHost.tx.query(
      `SELECT ${ORDER_COLUMNS} FROM tb_voucher_order WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return rows.map(toOrder);
  }

  /** One page of a user's orders, newest (highest id) first, below `cursor` if given. */
  async listForUser(query: {
    userId: string;
    voucherId?: string;
    status?: number;
    cursor?: string;
    limit: number;
  }): Promise<VoucherOrder[]> {
    const where = ['user_id = ?'];
    const params: (string | number)[] = [query.userId];
    if (query.voucherId !== undefined) {
      where.push('voucher_id = ?');
      params.push(query.voucherId);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.cursor !== undefined) {
      where.push('id < ?');
      params.push(query.cursor);
    }
    const rows: OrderRow[] = await this.txHost.tx.query(
      `SELECT ${ORDER_COLUMNS} FROM tb_voucher_order WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(toOrder);
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

  /** One order by id (a plain query: on the pay and lookup paths the ORM's query building cost more than the read). */
  async findById(id: string): Promise<VoucherOrder | null> {
    return (await this.findByIds([id]))[0] ?? null;
  }

  /**
   * Whether the order's row is committed, read on a connection of its own with a shared lock on the
   * primary key: a transaction still committing it (a slow fsync, a semi-sync wait) holds the row's
   * lock, so the read waits for its outcome instead of missing it — at most `lockWaitS` seconds, then
   * ER_LOCK_WAIT_TIMEOUT. `LOCK IN SHARE MODE`, not `FOR SHARE`: MariaDB 10.11 rejects the latter,
   * MySQL 8 accepts both. The bound is set for this statement and the session's own put back after.
   */
  async isCommitted(id: string, lockWaitS: number): Promise<boolean> {
    const runner = this.txHost.tx.connection.createQueryRunner();
    try {
      await runner.connect();
      const [{ wait }] = (await runner.query('SELECT @@SESSION.innodb_lock_wait_timeout AS wait')) as {
        wait: number;
      }[];
      await runner.query(`SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(lockWaitS))}`);
      try {
        const rows = (await runner.query('SELECT 1 FROM tb_voucher_order WHERE id = ? LOCK IN SHARE MODE', [
          id,
        ])) as unknown[];
        return rows.length > 0;
      } finally {
        // A failure here means the connection is gone: the pool drops it with its setting.
        await runner.query(`SET SESSION innodb_lock_wait_timeout = ${Number(wait)}`).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }
}
