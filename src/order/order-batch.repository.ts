import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { appConfig, type AppConfig } from '../config/app-config';
import type { DataSource, QueryRunner } from 'typeorm';
import { mysqlError } from '../database/database-errors';
import { affectedRows } from '../database/affected-rows';
import { isDuplicateKey } from './order.repository';
import { batchInsert, TAKE_STOCK_SQL } from './batch-insert.statement';

/** One order to write: its id and buyer (the voucher is the batch's). */
export interface BatchOrder {
  orderId: string;
  userId: string;
  /** The stream entry's id: its time part is when Redis accepted the order (its clock, at XADD). */
  streamId?: string;
}

/** What a batch transaction did with each order. */
export interface BatchOutcome {
  /** In MySQL now with this id: inserted by this batch or already there (a redelivery). */
  persisted: string[];
  /** Not inserted: the user already holds another order of this voucher. */
  conflicts: string[];
  /** Not inserted: another order (of another user or voucher) has this id. */
  idCollisions: string[];
}

/**
 * The batch's rows could not all take stock (the voucher's row is gone, or holds less stock than
 * Redis admitted): a fault of the data, not of the infrastructure, so retrying will not help.
 */
export class StockMismatchError extends Error {
  override readonly name = StockMismatchError.name;
}

/** COMMIT was sent but its reply was lost: the outcome is unknown until read back. */
export class CommitOutcomeUnknownError extends Error {
  override readonly name = CommitOutcomeUnknownError.name;
}

/**
 * Batched persistence of accepted orders: one transaction per batch and voucher, a multi-row INSERT
 * (the primary key makes a redelivered order a no-op; UNIQUE(user_id, voucher_id) catches a second
 * order of a user) and one conditional stock UPDATE for the rows actually inserted, taken last so
 * the hot stock row is locked only from that UPDATE to COMMIT.
 */
@Injectable()
export class OrderBatchRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async persist(voucherId: string, orders: BatchOrder[]): Promise<BatchOutcome> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      let outcome: BatchOutcome;
      try {
        outcome = await this.writeIn(runner, voucherId, orders);
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
      try {
        await runner.commitTransaction();
      } catch (error) {
        throw new CommitOutcomeUnknownError(`COMMIT of a batch of voucher ${voucherId} failed: ${String(error)}`, {
          cause: error,
        });
      }
      return outcome;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  /**
   * Reads back which of these orders MySQL holds (on a fresh pooled connection), to resolve a commit
   * whose outcome is unknown.
   */
  async existingIds(voucherId: string, orders: BatchOrder[]): Promise<Set<string>> {
    if (orders.length === 0) {
      return new Set();
    }
    const rows: { id: string; userId: string; voucherId: string }[] = await this.dataSource.query(
      `SELECT id, user_id AS userId, voucher_id AS voucherId FROM tb_voucher_order WHERE id IN (${placeholders(orders.length)})`,
      orders.map((order) => order.orderId),
    );
    const owners = new Map(orders.map((order) => [order.orderId, order.userId]));
    // Only a row of the same buyer and voucher is this order (an id repeated by a counter that went back is not).
    return new Set(
      rows
        .filter((row) => owners.get(String(row.id)) === String(row.userId) && String(row.voucherId) === voucherId)
        .map((row) => String(row.id)),
    );
  }

  /**
   * The sync group commit's common batch in one round trip: START TRANSACTION, the batch's INSERT and
   * its stock UPDATE as one multi-statement query (MySQL runs them in order and stops at the first
   * error). `collision`: the INSERT hit a taken key; the transaction is open with no rows of its own
   * (only InnoDB's shared locks on the keys it collided with), and the UPDATE did not run (`heldBy`
   * tells who holds what). Otherwise `stockTaken` says whether the UPDATE took the stock. Any other
   * error: the transaction may be open; the caller rolls back. TypeORM does not know of this
   * transaction (`runner.isTransactionActive` stays false): nothing on this runner may start one of
   * its own before COMMIT or ROLLBACK, or it would commit this one implicitly.
   */
  async openWith(
    runner: QueryRunner,
    voucherId: string,
    orders: BatchOrder[],
  ): Promise<{ collision: Error } | { stockTaken: boolean }> {
    const insert = batchInsert(voucherId, orders, this.config.ORDER_PAYMENT_TIMEOUT_MS);
    const sent = await unlessDuplicate(
      runner.query(`START TRANSACTION; ${insert.sql}; ${TAKE_STOCK_SQL}`, [
        ...insert.values,
        orders.length,
        voucherId,
        orders.length,
      ]) as Promise<unknown[]>,
    );
    return 'collision' in sent ? sent : { stockTaken: affectedRows(sent.reply[2]) === 1 };
  }

  /**
   * A batch's multi-row INSERT (the async consumers' first, `persist`; the sync group commit's after a
   * collision): undefined, or the
   * duplicate-key error when a key was taken (the statement was rolled back as a whole; `heldBy`
   * tells who holds what).
   */
  async tryInsert(runner: QueryRunner, voucherId: string, orders: BatchOrder[]): Promise<Error | undefined> {
    const sent = await unlessDuplicate(this.insert(runner, voucherId, orders));
    return 'collision' in sent ? sent.collision : undefined;
  }

  /**
   * After an INSERT hit a taken key: which of these ids MySQL holds (for whom), and which users hold
   * a live order of the voucher, with how long before this read it was inserted (the database's clock
   * alone). It must see the latest commits: a `locking` read does whatever the transaction read
   * before (its gap locks cost nothing on this rare path); a plain read only as the transaction's
   * first (the sync group commit's, whose snapshot is so taken right after the collision).
   */
  async heldBy(
    runner: QueryRunner,
    voucherId: string,
    orders: BatchOrder[],
    { locking = false }: { locking?: boolean } = {},
  ): Promise<{ ids: Map<string, string>; live: Map<string, { orderId: string; msBeforeRead: number }> }> {
    const rows = (await runner.query(
      `SELECT id, user_id AS userId, voucher_id AS voucherId, live_user_id AS liveUserId,
         TIMESTAMPDIFF(MICROSECOND, create_time, NOW(3)) AS usBefore
       FROM tb_voucher_order
       WHERE id IN (${placeholders(orders.length)}) OR (voucher_id = ? AND live_user_id IN (${placeholders(orders.length)}))
       ${locking ? 'LOCK IN SHARE MODE' : ''}`,
      [...orders.map((order) => order.orderId), voucherId, ...orders.map((order) => order.userId)],
    )) as { id: string; userId: string; voucherId: string; liveUserId: string | null; usBefore: string | number }[];
    const live = rows.filter((row) => String(row.voucherId) === voucherId && row.liveUserId !== null);
    return {
      ids: new Map(rows.map((row) => [String(row.id), `${row.userId}:${row.voucherId}`])),
      live: new Map(
        live.map((row) => [String(row.userId), { orderId: String(row.id), msBeforeRead: Number(row.usBefore) / 1000 }]),
      ),
    };
  }

  /**
   * A batch's writes on a transaction the caller runs (`persist`, the async consumers'): the
   * multi-row INSERT sorted by what MySQL holds, then one conditional stock UPDATE for the rows
   * inserted (`StockMismatchError` if the voucher has less stock).
   */
  private async writeIn(runner: QueryRunner, voucherId: string, orders: BatchOrder[]): Promise<BatchOutcome> {
    let toInsert = orders;
    const persisted: string[] = [];
    const conflicts: string[] = [];
    const idCollisions: string[] = [];
    if (await this.tryInsert(runner, voucherId, toInsert)) {
      // A redelivery (some ids are already in) or a second order of a user: the failed statement
      // was rolled back as a whole; sort the batch by what MySQL holds and insert the rest.
      const existing = await this.heldBy(runner, voucherId, orders, { locking: true });
      // Only a live order (not cancelled or refunded) keeps its user from ordering again.
      const users = new Set(existing.live.keys());
      toInsert = [];
      for (const order of orders) {
        const holder = existing.ids.get(order.orderId);
        if (holder !== undefined) {
          // The same order again (a redelivery), or an id repeated by a counter that went back.
          (holder === `${order.userId}:${voucherId}` ? persisted : idCollisions).push(order.orderId);
        } else if (users.has(order.userId)) {
          conflicts.push(order.orderId);
        } else {
          toInsert.push(order);
          // A second order of the same user in this batch is a conflict too (the first one goes in).
          users.add(order.userId);
        }
      }
      if (toInsert.length > 0) {
        await this.insert(runner, voucherId, toInsert);
      }
    }
    if (toInsert.length > 0) {
      await this.takeStock(runner, voucherId, toInsert.length);
      persisted.push(...toInsert.map((order) => order.orderId));
    }
    return { persisted, conflicts, idCollisions };
  }

  /** The one conditional stock UPDATE for `count` inserted orders (`StockMismatchError` if short). */
  async takeStock(runner: QueryRunner, voucherId: string, count: number): Promise<void> {
    const result: unknown = await runner.query(TAKE_STOCK_SQL, [count, voucherId, count]);
    if (affectedRows(result) !== 1) {
      throw new StockMismatchError(`Voucher ${voucherId} has no seckill row or less than ${count} stock left in MySQL`);
    }
  }

  private async insert(runner: QueryRunner, voucherId: string, orders: BatchOrder[]): Promise<void> {
    const { sql, values } = batchInsert(voucherId, orders, this.config.ORDER_PAYMENT_TIMEOUT_MS);
    await runner.query(sql, values);
  }
}

/** A statement's reply, or the duplicate-key error it failed with (rolled back as a whole); any other error is thrown. */
async function unlessDuplicate<T>(statement: Promise<T>): Promise<{ reply: T } | { collision: Error }> {
  try {
    return { reply: await statement };
  } catch (error) {
    if (isDuplicateKey(error)) {
      return { collision: error as Error };
    }
    throw error;
  }
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/**
 * True when an error is the entry's own fault and will recur on every attempt: a stock mismatch or
 * a data/constraint error (SQLSTATE class 22 or 23). Anything else (connection lost, timeouts,
 * deadlocks, the server going away) is infrastructure: retry, never dead-letter.
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof StockMismatchError) {
    return true;
  }
  const { sqlState } = mysqlError(error);
  return typeof sqlState === 'string' && (sqlState.startsWith('22') || sqlState.startsWith('23'));
}
