import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { OrderBatchRepository, StockMismatchError, type BatchOrder } from '../order-batch.repository';
import type { Answer, Waiting } from './sync-batch.types';

/**
 * One transaction attempt of a group commit (`SyncOrderBatcher`), up to its COMMIT: the members'
 * orders written, and every member that cannot commit — a repeat buyer, an id collision, too little
 * stock, a deadline passed or a lock lost — set apart to be answered alone after the rollback.
 */
@Injectable()
export class SyncBatchWriter {
  constructor(private readonly repository: OrderBatchRepository) {}

  /**
   * Opens the transaction, writes the members' orders and checks what must hold at COMMIT; every
   * member that cannot commit goes to `alone` (answered after the rollback). `commit` is true only
   * when all of them are in and the stock was taken. The transaction is open on return, and on a
   * throw it may be: the caller commits or rolls it back.
   */
  async writeOrAnswer(
    runner: QueryRunner,
    voucherId: string,
    members: Waiting[],
    alone: Answer[],
  ): Promise<{ left: Waiting[]; commit: boolean }> {
    const orders = members.map(({ member }) => ({ orderId: member.orderId, userId: member.userId }));
    // No read before the INSERT: new buyers are the common case, so the common batch is START
    // TRANSACTION, INSERT and UPDATE in one round trip, then COMMIT. A repeat buyer (or an id
    // collision) fails the INSERT as a whole, and the UPDATE does not run.
    const opened = await this.repository.openWith(runner, voucherId, orders);
    let stockTaken: boolean;
    if ('collision' in opened) {
      const left = await this.sortOut(runner, { voucherId, members, orders, alone });
      if (left.length < members.length) {
        return { left, commit: false };
      }
      // Nobody holds the key any more (the order collided with was cancelled in between): once more,
      // and a second collision no read explained fails the batch.
      const again = await this.repository.tryInsert(runner, voucherId, orders);
      if (again) {
        throw again;
      }
      stockTaken = await this.repository.takeStock(runner, voucherId, members.length).then(
        () => true,
        (error: unknown) => {
          if (error instanceof StockMismatchError) {
            return false;
          }
          throw error;
        },
      );
    } else {
      stockTaken = opened.stockTaken;
    }
    if (!stockTaken) {
      // Never commit this attempt: its rows took no stock.
      return { left: await this.shareStock(runner, voucherId, members, alone), commit: false };
    }
    // Right before COMMIT: every member is still within its deadline and holds its lock.
    const now = performance.now();
    const checked = await Promise.all(
      members.map(async (waiting) => {
        if (now > waiting.member.deadline) {
          alone.push({ waiting, outcome: { kind: 'deadline' } });
          return null;
        }
        try {
          await waiting.member.lock.assertHeld('lease');
          return waiting;
        } catch (error) {
          alone.push({ waiting, error });
          return null;
        }
      }),
    );
    const left = checked.filter((waiting): waiting is Waiting => waiting !== null);
    return { left, commit: left.length === members.length };
  }

  /**
   * The batch's INSERT hit a taken key: each member that cannot go in is answered alone (a repeat
   * buyer with the order MySQL holds, a second order of a user within the batch, an id collision);
   * the others are returned, to try again.
   */
  private async sortOut(
    runner: QueryRunner,
    batch: { voucherId: string; members: Waiting[]; orders: BatchOrder[]; alone: Answer[] },
  ): Promise<Waiting[]> {
    const { voucherId, members, orders, alone } = batch;
    const readAt = performance.now();
    const held = await this.repository.heldBy(runner, voucherId, orders);
    const users = new Set<string>();
    const ids = new Set<string>();
    return members.filter((waiting) => {
      const { orderId, userId, lockedAt } = waiting.member;
      const existing = held.live.get(userId);
      if (held.ids.has(orderId) || ids.has(orderId)) {
        alone.push({ waiting, outcome: { kind: 'id-collision' } });
      } else if (existing !== undefined) {
        // Inserted after the lock was granted? Durations only (the database's for the order, this
        // process's monotonic clock for the lock), up to the read; its own transit makes it err
        // towards no (never yes under a working lock).
        const raced = existing.msBeforeRead < readAt - lockedAt;
        alone.push({ waiting, outcome: { kind: 'already-ordered', orderId: existing.orderId, raced } });
      } else if (users.has(userId)) {
        // A second order of a user within this batch: what a missing per-user lock lets through.
        alone.push({ waiting, outcome: { kind: 'already-ordered', raced: true } });
      } else {
        users.add(userId);
        ids.add(orderId);
        return true;
      }
      return false;
    });
  }

  /** Less stock than members: the first `stock` try again, the others are sold out. */
  private async shareStock(
    runner: QueryRunner,
    voucherId: string,
    members: Waiting[],
    alone: Answer[],
  ): Promise<Waiting[]> {
    // A locking read: the current stock, not the transaction's snapshot.
    const rows = (await runner.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [
      voucherId,
    ])) as {
      stock: number;
    }[];
    const stock = Math.max(0, Number(rows[0]?.stock ?? 0));
    for (const waiting of members.slice(stock)) {
      alone.push({ waiting, outcome: { kind: 'sold-out' } });
    }
    return members.slice(0, stock);
  }
}
