import { Inject, Injectable, Logger } from '@nestjs/common';
import { appConfig, type AppConfig } from '../../config/app-config';
import {
  CommitOutcomeUnknownError,
  isDataError,
  OrderBatchRepository,
  StockMismatchError,
  type BatchOutcome,
} from '../order-batch.repository';
import { OrderStreamMetrics } from './order-stream.metrics';
import type { MalformedEntry, StreamOrder } from './order-stream.entries';
import { OrderSettlementStore } from './order-settlement.store';
import { groupByVoucher } from '../group-by-voucher';

/** MySQL or Redis could not be used: keep the entries pending and try again later. */
export class PersistenceUnavailableError extends Error {
  override readonly name = PersistenceUnavailableError.name;
}

/**
 * Turns stream entries into MySQL rows, then acknowledges them — never the other way round. Per
 * voucher, one transaction for the whole batch; if the batch fails because of its data, each entry
 * is tried alone, so one poison entry cannot hold back the others. An entry that fails by itself
 * ORDER_MAX_ATTEMPTS times is dead-lettered and its reservation given back (exactly once).
 * Infrastructure failures throw `PersistenceUnavailableError` and count against no entry.
 */
@Injectable()
export class OrderPersister {
  private readonly logger = new Logger(OrderPersister.name);

  constructor(
    private readonly repository: OrderBatchRepository,
    private readonly settlement: OrderSettlementStore,
    private readonly metrics: OrderStreamMetrics,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** Persists and settles orders (any vouchers); resolves once every entry is settled or left for retry. */
  async persist(orders: StreamOrder[]): Promise<void> {
    const byVoucher = groupByVoucher(orders);
    // Every voucher's batch runs to its end before a failure is reported, so a retry never
    // overlaps a batch still in flight.
    const results = await Promise.allSettled([...byVoucher.values()].map((batch) => this.persistBatch(batch)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      throw failed.reason;
    }
  }

  /** Entries that carry no order: nothing can be persisted or given back; acknowledged and logged. */
  async discard(entries: MalformedEntry[]): Promise<void> {
    for (const entry of entries) {
      this.logger.error(
        `Discarding malformed entry ${entry.streamId} of voucher ${entry.voucherId}: ${JSON.stringify(entry.fields)}`,
      );
      await this.settlement.discard(entry.voucherId, [entry.streamId]);
      this.metrics.deadLettered.inc({ reason: 'MALFORMED' });
    }
  }

  private async persistBatch(batch: StreamOrder[]): Promise<void> {
    const voucherId = batch[0].voucherId;
    const stopTimer = this.metrics.persistSeconds.startTimer();
    if (this.config.ORDER_UNSAFE_ACK_BEFORE_COMMIT) {
      // Negative control: the bug the crash test must catch (a crash before COMMIT loses these).
      await this.settlement.settle(voucherId, batch);
    }
    let outcome: BatchOutcome;
    try {
      outcome = await this.repository.persist(voucherId, batch);
    } catch (error) {
      if (error instanceof CommitOutcomeUnknownError) {
        return this.resolveUnknownCommit(batch, error);
      }
      if (!isDataError(error)) {
        throw new PersistenceUnavailableError(`Persisting orders of voucher ${voucherId} failed: ${String(error)}`, {
          cause: error,
        });
      }
      if (batch.length > 1) {
        // Find the entry at fault: every entry alone (sequentially, to keep the stock row quiet).
        for (const order of batch) {
          await this.persistBatch([order]);
        }
        return;
      }
      return this.failedAttempt(batch[0], error);
    }
    stopTimer();
    this.metrics.batchSize.observe(batch.length);
    await this.settle(batch, outcome);
  }

  private async settle(batch: StreamOrder[], outcome: BatchOutcome): Promise<void> {
    const persisted = new Set(outcome.persisted);
    const conflicts = new Set(outcome.conflicts);
    const idCollisions = new Set(outcome.idCollisions);
    const settled = await this.settlement
      .settle(
        batch[0].voucherId,
        batch.filter((order) => persisted.has(order.orderId)),
      )
      .catch((error: unknown) => {
        // Committed in MySQL; the entries stay pending and a redelivery finds them there.
        throw new PersistenceUnavailableError(`Acknowledging committed orders failed: ${String(error)}`, {
          cause: error,
        });
      });
    this.metrics.persisted.inc(settled);
    for (const order of batch.filter((candidate) => conflicts.has(candidate.orderId))) {
      // The user holds another order of this voucher (in MySQL): the unit goes back, the buyer stays.
      await this.deadLetter(order, 'ALREADY_ORDERED', true);
    }
    for (const order of batch.filter((candidate) => idCollisions.has(candidate.orderId))) {
      // Its id is taken (the id counter went back after Redis lost it): it cannot be stored under
      // the id its buyer was given; the unit goes back and the buyer may order again.
      await this.deadLetter(order, 'ID_COLLISION', false);
    }
  }

  /** COMMIT's reply was lost: read back which ids MySQL holds; settle those, retry the rest later. */
  private async resolveUnknownCommit(batch: StreamOrder[], error: CommitOutcomeUnknownError): Promise<void> {
    let existing: Set<string>;
    try {
      existing = await this.repository.existingIds(batch[0].voucherId, batch);
    } catch (readError) {
      throw new PersistenceUnavailableError(`${error.message}; reading back failed too: ${String(readError)}`, {
        cause: error,
      });
    }
    this.logger.warn(`${error.message}; read back: ${existing.size} of ${batch.length} orders are in MySQL`);
    await this.settle(batch, { persisted: [...existing], conflicts: [], idCollisions: [] });
    if (existing.size < batch.length) {
      throw new PersistenceUnavailableError('A batch whose commit failed must be retried');
    }
  }

  private async failedAttempt(order: StreamOrder, error: unknown): Promise<void> {
    const attempts = await this.settlement.recordAttempt(order.voucherId, order.orderId);
    this.logger.warn(
      {
        event: 'order.persist_failed',
        orderId: order.orderId,
        userId: order.userId,
        voucherId: order.voucherId,
        attempts,
      },
      `Order ${order.orderId} of voucher ${order.voucherId} failed (attempt ${attempts} of ` +
        `${this.config.ORDER_MAX_ATTEMPTS}): ${String(error)}`,
    );
    if (attempts >= this.config.ORDER_MAX_ATTEMPTS) {
      // Never compensate an order that is in MySQL after all.
      const existing = await this.repository.existingIds(order.voucherId, [order]);
      if (existing.has(order.orderId)) {
        await this.settle([order], { persisted: [order.orderId], conflicts: [], idCollisions: [] });
        return;
      }
      await this.deadLetter(order, error instanceof StockMismatchError ? 'STOCK_MISMATCH' : 'DATA_ERROR', false);
    }
  }

  private async deadLetter(order: StreamOrder, reason: string, keepBuyer: boolean): Promise<void> {
    if (await this.settlement.compensate(order, { reason, keepBuyer })) {
      this.metrics.deadLettered.inc({ reason });
      this.logger.error(
        {
          event: 'order.dead_lettered',
          orderId: order.orderId,
          userId: order.userId,
          voucherId: order.voucherId,
          reason,
        },
        `Order ${order.orderId} of user ${order.userId} for voucher ${order.voucherId} dead-lettered (${reason}); ` +
          'its unit was given back',
      );
    }
  }
}
