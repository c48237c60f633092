import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';

/** Series of the order lifecycle (per replica). */
@Injectable()
export class LifecycleMetrics {
  /** Transitions this replica made, by `transition`: pay, cancel, use, refund, expire. */
  readonly transitions: Counter<'transition'>;
  /** How late (s, by the database's clock) each expired order was cancelled after its deadline. */
  readonly expiryLateness: Histogram;
  /** Units this replica gave back to Redis (each order once, cluster-wide). */
  readonly returned: Counter;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.transitions = new Counter({
      name: 'seckill_order_transitions_total',
      help: 'Order status transitions made by this replica (pay, cancel, use, refund, expire)',
      labelNames: ['transition'],
      registers,
    });
    this.expiryLateness = new Histogram({
      name: 'seckill_order_expiry_lateness_seconds',
      help: 'How long after its payment deadline an unpaid order was cancelled',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.returned = new Counter({
      name: 'seckill_order_units_returned_total',
      help: 'Units of cancelled or refunded orders given back to the sale in Redis by this replica',
      registers,
    });
  }
}
