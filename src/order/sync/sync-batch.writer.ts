import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { OrderBatchRepository, type BatchOrder } from '../order-batch.repository';
import { StockMismatchError } from '../order-batch.errors';
import type { Answer, Waiting } from './sync-batch.types';

/** The longest time budget a batch's one round trip is given (a member without a deadline). */
const MAX_BUDGET_MS = 3_600_000;

/**
 * One transaction attempt of a group commit (`SyncOrderBatcher`), up to its COMMIT: the members'
 * orders written, and every member that cannot commit — a repeat buyer, an id collision, too little
 * stock, a deadline passed or a lock lost — set apart to be answered alone after the rollback.
 */
@Injectable()
export class SyncBatchWriter {
  constructor(private readonly repository: OrderBatchRepository) {}

  /**
   * Writes the members' orders and, with `commitInOne`, commits them in the same round trip when they
   * all go in (`committed`). Every member that cannot commit — its deadline passed or its lock lost
   * (checked before the writes, and again before a COMMIT of its own), a repeat buyer, an id
   * collision, no stock for it — goes to `alone` (answered after the rollback); `retry`: roll back and
   * try again with `left`. `ready`: the transaction is open with every member in and the stock taken,
   * for the caller to COMMIT. On a throw the transaction may be open: the caller rolls it back.
   */
  async writeOrAnswer(
    runner: QueryRunner,
    voucherId: string,
    batch: Waiting[],
    alone: Answer[],
    { commitInOne = false }: { commitInOne?: boolean } = {},
  ): Promise<{ left: Waiting[]; outcome: 'committed' | 'ready' | 'retry' }> {
    // Before the first write: a member out of time or lock never joins the transaction. (With the
    // COMMIT in the same round trip this is the check before COMMIT: the lease's safety margin and
    // the request deadline's distance to nginx's timeout cover the round trip.)
    const members = await this.stillHeld(batch, alone);
    if (members.length === 0) {
      return { left: [], outcome: 'retry' };
    }
    const orders = members.map(({ member }) => ({ orderId: member.orderId, userId: member.userId }));
    // No read before the INSERT: new buyers are the common case, so the common batch is START
    // TRANSACTION, INSERT and UPDATE (and COMMIT) in one round trip. A repeat buyer (or an id
    // collision) fails the INSERT as a whole, and the statements after it do not run.
    const opened = await this.repository.openWith(runner, voucherId, orders, {
      commitWithinMs: commitInOne ? this.timeLeft(members) : undefined,
    });
    let stockTaken: boolean;
    if ('collision' in opened) {
      const left = await this.sortOut(runner, { voucherId, members, orders, alone });
      if (left.length < members.length) {
        return { left, outcome: 'retry' };
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
    } else if (opened.committed) {
      return { left: members, outcome: 'committed' };
    } else {
      stockTaken = opened.stockTaken;
    }
    if (!stockTaken) {
      // Never commit this attempt: its rows took no stock (or took it past a member's deadline, which
      // this process's clock sees passed too: the database's budget started after the request left).
      const inTime = await this.stillHeld(members, alone);
      if (inTime.length < members.length) {
        return { left: inTime, outcome: 'retry' };
      }
      return { left: await this.shareStock(runner, voucherId, members, alone), outcome: 'retry' };
    }
    // Right before a COMMIT of its own: every member is still within its deadline and holds its lock.
    const left = await this.stillHeld(members, alone);
    return { left, outcome: left.length === members.length ? 'ready' : 'retry' };
  }

  /** Milliseconds until the members' nearest deadline (capped: a member may have none). */
  private timeLeft(members: Waiting[]): number {
    const nearest = Math.min(...members.map(({ member }) => member.deadline));
    return Math.min(nearest - performance.now(), MAX_BUDGET_MS);
  }

  /** The members still within their deadline and holding their lock; the others go to `alone`. */
  private async stillHeld(members: Waiting[], alone: Answer[]): Promise<Waiting[]> {
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
    return checked.filter((waiting): waiting is Waiting => waiting !== null);
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
