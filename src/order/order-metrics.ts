import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/** Outcomes of seckill orders, and the duplicate-key rejections the lock should make impossible. */
@Injectable()
export class OrderMetrics {
  /**
   * Orders that met another live order of the same user placed while they held the user's lock: at
   * the unique key, or (group commit) found by the batch's read as inserted after the lock was
   * granted. 0 under the distributed lock; LOCK_MODE=local shows it.
   */
  readonly duplicateKeyRejections: Counter;
  readonly outcomes: Counter<'outcome'>;
  /** Orders per group-commit transaction (sync path). */
  readonly syncBatchSize: Histogram;

  constructor(metrics: MetricsService) {
    this.duplicateKeyRejections = new Counter({
      name: 'seckill_order_duplicate_key_rejections_total',
      help: 'Seckill orders rejected by the database unique key (the lock should keep this at 0)',
      registers: [metrics.registry],
    });
    this.outcomes = new Counter({
      name: 'seckill_order_outcomes_total',
      help: 'Seckill order attempts by outcome (created or an error code)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.syncBatchSize = new Histogram({
      name: 'seckill_sync_commit_batch_size',
      help: 'Orders per group-commit transaction of the synchronous sale (each attempt, retries included)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [metrics.registry],
    });
  }
}
