import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, QueryRunner } from 'typeorm';
import { appConfig, type AppConfig } from '../../config/app-config';
import type { LockContext } from '@seckill/lock';
import { VoucherService } from '../../voucher/voucher.service';
import { OrderMetrics } from '../order-metrics';
import { CommitOutcomeUnknownError, OrderBatchRepository, StockMismatchError } from '../order-batch.repository';

/** One order waiting for the group commit, placed by a request that holds its user's lock. */
export interface SyncBatchMember {
  orderId: string;
  userId: string;
  voucherId: string;
  /** performance.now() after which the order must not commit (its request's deadline). */
  deadline: number;
  /** The sale's end (ms, Redis' clock): with it, the batch confirms the buyer in Redis after COMMIT. */
  saleEndMs?: number;
  /** performance.now() when the member's lock was granted. */
  lockedAt: number;
  /** The member's per-user lock, checked right before COMMIT. */
  lock: LockContext;
}

/** What the group commit did with one member. */
export type SyncBatchOutcome =
  /** Committed; `buyerConfirmed`: Redis remembers the buyer (confirmed with the batch). */
  | { kind: 'created'; buyerConfirmed: boolean }
  /**
   * The user holds a live order of this voucher. `raced`: that order was placed while this member held
   * the user's lock (caught by the unique key, or found inserted after the lock was granted) — what
   * the per-user lock excludes, so never under a working distributed lock.
   */
  | { kind: 'already-ordered'; orderId?: string; raced: boolean }
  | { kind: 'id-collision' }
  | { kind: 'sold-out' }
  | { kind: 'deadline' };

interface Waiting {
  member: SyncBatchMember;
  resolve: (outcome: SyncBatchOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the synchronous sale (ORDER_SYNC_BATCH_MAX > 1): orders of one voucher that are
 * ready while its previous batch commits share the next transaction — one read of the buyers, one
 * multi-row INSERT, one conditional stock UPDATE, one COMMIT — instead of one transaction each on
 * the hot stock row. Every member holds its own user's lock until its promise settles (after the
 * COMMIT), so `@DistributedLock`'s rule holds per order. A member that cannot be inserted (a
 * duplicate user, an id collision) or whose deadline or lock is gone before COMMIT is taken out and
 * answered alone; the others are retried without it. A failure before COMMIT rejects every member
 * with its error (certain: nothing committed); a failed COMMIT with `CommitOutcomeUnknownError`, and
 * each request resolves its own outcome by reading its order back.
 */
@Injectable()
export class SyncOrderBatcher {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: OrderBatchRepository,
    private readonly vouchers: VoucherService,
    private readonly metrics: OrderMetrics,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** Resolves once the member's batch committed (or the member was answered alone). */
  submit(member: SyncBatchMember): Promise<SyncBatchOutcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(member.voucherId);
      if (!queue) {
        this.queues.set(member.voucherId, (queue = []));
      }
      queue.push({ member, resolve, reject });
      if (!this.running.has(member.voucherId)) {
        this.running.add(member.voucherId);
        setTimeout(() => void this.drain(member.voucherId), this.config.ORDER_SYNC_BATCH_LINGER_MS);
      }
    });
  }

  /** Commits the voucher's waiting members batch after batch until none is left. */
  private async drain(voucherId: string): Promise<void> {
    const queue = this.queues.get(voucherId)!;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, this.config.ORDER_SYNC_BATCH_MAX);
        try {
          await this.commit(voucherId, batch);
        } catch (error) {
          for (const waiting of batch) {
            waiting.reject(error);
          }
        }
      }
    } finally {
      this.running.delete(voucherId);
      this.queues.delete(voucherId);
    }
  }

  /** One transaction for the batch; members answered alone are taken out and the rest retried. */
  private async commit(voucherId: string, batch: Waiting[]): Promise<void> {
    let members = batch;
    while (members.length > 0) {
      const runner = this.dataSource.createQueryRunner();
      const alone: Answer[] = [];
      try {
        await runner.connect();
        // The server's isolation (REPEATABLE READ): the first read's snapshot sees every commit before
        // the batch began; a duplicate found by the INSERT is sorted with a locking read, which sees
        // the latest commits (one round trip less than setting READ COMMITTED per transaction).
        await runner.startTransaction();
        this.metrics.syncBatchSize.observe(members.length);
        const attempt = await this.writeOrAnswer(runner, voucherId, members, alone);
        if (!attempt.commit) {
          // Someone was answered alone (or the stock had to be shared out): the rows written with
          // them go back, and the others try again in a fresh transaction.
          await runner.rollbackTransaction();
          members = attempt.left;
          continue;
        }
        if (this.config.ORDER_TEST_COMMIT_DELAY_MS > 0) {
          await new Promise((resolve) => setTimeout(resolve, this.config.ORDER_TEST_COMMIT_DELAY_MS));
        }
        try {
          await runner.commitTransaction();
        } catch (error) {
          // Sent, reply lost: each member reads its order back (a failure before this is certain).
          throw new CommitOutcomeUnknownError(`COMMIT of a batch of voucher ${voucherId} failed: ${String(error)}`, {
            cause: error,
          });
        }
        const buyerConfirmed = await this.confirmBuyers(voucherId, members);
        for (const waiting of members) {
          waiting.resolve({ kind: 'created', buyerConfirmed });
        }
        return;
      } catch (error) {
        if (runner.isTransactionActive) {
          await runner.rollbackTransaction().catch(() => undefined);
        }
        throw error;
      } finally {
        await runner.release().catch(() => undefined);
        // Only now, after the rollback: a member answered alone releases its lock when answered, and
        // its row must be gone by then (the lock outlives its transaction, never the other way round).
        for (const { waiting, outcome, error } of alone) {
          if (outcome) {
            waiting.resolve(outcome);
          } else {
            waiting.reject(error);
          }
        }
      }
    }
  }

  /**
   * Writes the members' orders and checks what must hold at COMMIT; every member that cannot commit
   * goes to `alone` (answered after the rollback). `commit` is true only when all of them are in and
   * the stock was taken.
   */
  private async writeOrAnswer(
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

  /**
   * The committed members' buyers into Redis in one call, before their locks are released (a repeat
   * request is then answered from Redis). Advisory, as one order's confirm: MySQL decided; false
   * when it failed or a member has no sale end (each request then confirms its own).
   */
  private async confirmBuyers(voucherId: string, members: Waiting[]): Promise<boolean> {
    let endMs = 0;
    for (const { member } of members) {
      if (member.saleEndMs === undefined) {
        return false;
      }
      endMs = Math.max(endMs, member.saleEndMs);
    }
    return this.vouchers
      .confirmBuyers(
        voucherId,
        members.map(({ member }) => member.userId),
        endMs,
      )
      .then(
        () => true,
        () => false,
      );
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

/** A member answered alone: its outcome, or the error it is rejected with. */
interface Answer {
  waiting: Waiting;
  outcome?: SyncBatchOutcome;
  error?: unknown;
}
