import { Injectable } from '@nestjs/common';
import { SegmentIdWorker } from '../../id-worker/id-segment.service';
import type { LockContext } from '@seckill/lock';
import { DistributedLock } from '@seckill/lock/nest';
import { ID_ATTEMPTS, USER_LOCK_WAIT_MS, type OrderAttempt } from '../order-attempt';
import { OrderMetrics } from '../order-metrics';
import { AlreadyOrderedError, OrderDeadlineExceededError, SoldOutError } from '../order.errors';
import { IdWorkerUnavailableError } from '../../id-worker/id-worker.errors';
import { CommitOutcomeUnknownError } from '../order-batch.repository';
import { SyncOrderBatcher } from './sync-order.batcher';

/**
 * The synchronous order under its user's lock, committed in a group (`SyncOrderBatcher`): the
 * lock is taken first, the order joins its voucher's next batch, and the lock is released only after
 * that batch's COMMIT (or when the order is answered alone) — the `@DistributedLock` rule, per order.
 */
@Injectable()
export class BatchedOrderPlacer {
  constructor(
    private readonly batcher: SyncOrderBatcher,
    // Ids from blocks reserved in Redis (as the async path): no Redis round trip per order.
    private readonly ids: SegmentIdWorker,
    private readonly metrics: OrderMetrics,
  ) {}

  /** Places the order; `attempt.orderId` is set while its outcome may be unknown (for a read-back). */
  // `reentrant: false`: an order never takes its user's lock twice, so it needs no owner frame (and
  // no AsyncLocalStorage hook on every promise; see WithLockOptions.reentrant).
  @DistributedLock('order:{userId}', {
    waitTime: USER_LOCK_WAIT_MS,
    transaction: false,
    withContext: true,
    reentrant: false,
  })
  async place(userId: string, voucherId: string, attempt: OrderAttempt, lock?: LockContext): Promise<string> {
    const lockedAt = performance.now();
    for (let tries = 1; ; tries++) {
      const orderId = (this.ids.take('order') ?? (await this.ids.nextId('order'))).toString();
      let outcome;
      try {
        outcome = await this.batcher.submit({
          orderId,
          userId,
          voucherId,
          deadline: attempt.deadline ?? Number.POSITIVE_INFINITY,
          saleEndMs: attempt.saleEndMs,
          lockedAt,
          lock: lock!,
        });
      } catch (error) {
        if (error instanceof CommitOutcomeUnknownError) {
          // The order may have committed: the caller reads it back by this id (see OrderService.readBack).
          attempt.orderId = orderId;
          throw error.cause instanceof Error ? error.cause : error;
        }
        throw error;
      }
      if (outcome.kind === 'created') {
        // Committed: should anything fail from here on (the lock's release), the caller reads it back.
        attempt.orderId = orderId;
        attempt.buyerConfirmed = outcome.buyerConfirmed;
        return orderId;
      }
      // Answered alone: certainly not committed.
      switch (outcome.kind) {
        case 'already-ordered': {
          if (outcome.raced) {
            this.metrics.duplicateKeyRejections.inc();
          }
          const error = new AlreadyOrderedError('You already ordered this voucher');
          throw outcome.orderId ? error.withOrder(outcome.orderId) : error;
        }
        case 'sold-out':
          throw new SoldOutError('Sold out');
        case 'deadline':
          throw new OrderDeadlineExceededError('The order took too long and was not placed; try again');
        case 'id-collision':
          if (tries >= ID_ATTEMPTS) {
            throw new IdWorkerUnavailableError(`Order ids kept colliding (${tries} tries)`);
          }
      }
    }
  }
}
