import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { LockService } from '@seckill/lock';
import { MetricsService } from './metrics.service';

/**
 * The lock library's events as metrics: `lock_lost_total{reason}`, `lock_wait_seconds` (first
 * acquisitions) and `lock_wait_timeouts_total`. No lock-name label: names carry user ids.
 */
@Injectable()
export class LockMetrics implements OnModuleDestroy {
  private readonly unsubscribe: (() => void)[];

  constructor(locks: LockService, metrics: MetricsService) {
    const lost = new Counter({
      name: 'lock_lost_total',
      help: 'Locks lost while held (lease ran out, taken over, store unreachable, or session ended), every backend',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
    const waits = new Histogram({
      name: 'lock_wait_seconds',
      help: 'Time from asking for a lock to holding it (first acquisitions)',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [metrics.registry],
    });
    const timeouts = new Counter({
      name: 'lock_wait_timeouts_total',
      help: 'Waits for a lock that ended without it (waitTime elapsed)',
      registers: [metrics.registry],
    });
    this.unsubscribe = [
      locks.onLockLost((event) => lost.inc({ reason: event.reason })),
      locks.onLockAcquired((event) => waits.observe(event.waitedMs / 1000)),
      locks.onLockTimedOut(() => timeouts.inc()),
    ];
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) {
      unsubscribe();
    }
  }
}
