import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { appConfig, type AppConfig } from '../../config/app-config';
import { VoucherService } from '../../voucher/voucher.service';
import { OrderMetrics } from '../order-metrics';
import { CommitOutcomeUnknownError } from '../order-batch.repository';
import { SyncBatchWriter } from './sync-batch.writer';
import type { Answer, SyncBatchMember, SyncBatchOutcome, Waiting } from './sync-batch.types';

/**
 * Group commit for the synchronous sale (ORDER_SYNC_BATCH_MAX > 1): orders of one voucher that are
 * ready while its previous batch commits share the next transaction — one multi-row INSERT, one
 * conditional stock UPDATE, one COMMIT — instead of one transaction each on
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
    private readonly writer: SyncBatchWriter,
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
      // The writer's first query opens the transaction (START TRANSACTION with the INSERT and the
      // UPDATE, one round trip), so it is ended here by COMMIT and ROLLBACK statements rather than
      // TypeORM's transaction calls, which track only a transaction they started themselves.
      let open = false;
      try {
        await runner.connect();
        this.metrics.syncBatchSize.observe(members.length);
        // The server's isolation (REPEATABLE READ): the INSERT comes first, and a duplicate it finds
        // is sorted by the transaction's first read, whose snapshot is taken then and so sees the
        // committed order collided with (one round trip less than setting READ COMMITTED).
        open = true;
        const attempt = await this.writer.writeOrAnswer(runner, voucherId, members, alone);
        if (!attempt.commit) {
          // Someone was answered alone (or the stock had to be shared out): the rows written with
          // them go back, and the others try again in a fresh transaction.
          await runner.query('ROLLBACK');
          open = false;
          members = attempt.left;
          continue;
        }
        if (this.config.ORDER_TEST_COMMIT_DELAY_MS > 0) {
          await new Promise((resolve) => setTimeout(resolve, this.config.ORDER_TEST_COMMIT_DELAY_MS));
        }
        try {
          await runner.query('COMMIT');
          open = false;
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
        if (open) {
          await runner.query('ROLLBACK').catch(() => undefined);
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
}
