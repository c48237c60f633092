import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';

/** Series of the asynchronous order path (per replica). */
@Injectable()
export class OrderStreamMetrics {
  readonly persisted: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly claimed: Counter;
  readonly rebuilds: Counter;
  readonly batchSize: Histogram;
  readonly admissionBatchSize: Histogram;
  readonly persistSeconds: Histogram;
  /** Set by the consumer: entries delivered but not yet acknowledged, and not yet delivered, summed over sales. */
  readonly pendingEntries: Gauge;
  readonly lag: Gauge;
  readonly streamLength: Gauge;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.persisted = new Counter({
      name: 'seckill_async_orders_persisted_total',
      help: 'Accepted orders committed to MySQL and acknowledged by this replica',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'seckill_async_orders_dead_lettered_total',
      help: 'Accepted orders dead-lettered (FAILED, reservation given back) by this replica',
      labelNames: ['reason'],
      registers,
    });
    this.claimed = new Counter({
      name: 'seckill_async_entries_claimed_total',
      help: 'Stream entries claimed from idle consumers by this replica',
      registers,
    });
    this.rebuilds = new Counter({
      name: 'seckill_async_state_rebuilds_total',
      help: 'Sale states rebuilt from MySQL and the surviving stream after Redis lost them',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'seckill_async_batch_size',
      help: 'Orders per persisted batch (one transaction)',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.admissionBatchSize = new Histogram({
      name: 'seckill_async_admission_batch_size',
      help: 'Requests decided by one admission script call (those that arrived in one event-loop turn)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.persistSeconds = new Histogram({
      name: 'seckill_async_persist_seconds',
      help: 'Time to persist one batch (transaction incl. commit)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.pendingEntries = new Gauge({
      name: 'seckill_async_stream_pending_entries',
      help: 'Entries delivered to a consumer but not yet acknowledged, over active sales',
      registers,
    });
    this.lag = new Gauge({
      name: 'seckill_async_stream_lag',
      help: 'Entries not yet delivered to any consumer, over active sales',
      registers,
    });
    this.streamLength = new Gauge({
      name: 'seckill_async_stream_length',
      help: 'Entries in the order streams of active sales (every order they accepted; never trimmed while a sale lives)',
      registers,
    });
  }
}
