import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { OrderBatchRepository, StockMismatchError } from '../order-batch.repository';
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
   * Writes the members' orders and checks what must hold at COMMIT; every member that cannot commit
   * goes to `alone` (answered after the rollback). `commit` is true only when all of them are in and
   * the stock was taken.
   */
  async writeOrAnswer(
    runner: QueryRunner,
    voucherId: string,
    members: Waiting[],
    alone: Answer[],
  ): Promise<{ left: Waiting[]; commit: boolean }> {
    const sentAt = performance.now();
    const live = await this.repository.liveBuyers(
      runner,
      voucherId,
      members.map((waiting) => waiting.member.userId),
    );
    let left = members.filter((waiting) => {
      const existing = live.get(waiting.member.userId);
      if (existing !== undefined) {
        // Inserted after the lock was granted? Durations only (the database's for the order, this
        // process's monotonic clock for the lock); the read's own transit makes it err towards no.
        const raced = existing.msBeforeRead < sentAt - waiting.member.lockedAt;
        alone.push({ waiting, outcome: { kind: 'already-ordered', orderId: existing.orderId, raced } });
      }
      return existing === undefined;
    });
    if (left.length < members.length || left.length === 0) {
      return { left, commit: false };
    }
    let outcome;
    try {
      outcome = await this.repository.writeIn(
        runner,
        voucherId,
        left.map(({ member }) => ({ orderId: member.orderId, userId: member.userId })),
      );
    } catch (error) {
      if (!(error instanceof StockMismatchError)) {
        throw error;
      }
      // Never commit this attempt: its rows took no stock.
      return { left: await this.shareStock(runner, voucherId, left, alone), commit: false };
    }
    const conflicts = new Set(outcome.conflicts);
    const collisions = new Set(outcome.idCollisions);
    left = left.filter(({ member }) => !conflicts.has(member.orderId) && !collisions.has(member.orderId));
    for (const waiting of members) {
      if (conflicts.has(waiting.member.orderId)) {
        alone.push({ waiting, outcome: { kind: 'already-ordered', raced: true } });
      } else if (collisions.has(waiting.member.orderId)) {
        alone.push({ waiting, outcome: { kind: 'id-collision' } });
      }
    }
    if (left.length < members.length) {
      return { left, commit: false };
    }
    // Right before COMMIT: every member is still within its deadline and holds its lock.
    const now = performance.now();
    const checked = await Promise.all(
      left.map(async (waiting) => {
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
    left = checked.filter((waiting): waiting is Waiting => waiting !== null);
    return { left, commit: left.length === members.length };
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
