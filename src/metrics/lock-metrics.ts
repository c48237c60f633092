import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import { LockService } from '../lock/lock.service';
import { MetricsService } from './metrics.service';

/** Exposes lock-lost events as `lock_lost_total{reason}`. */
@Injectable()
export class LockMetrics implements OnModuleDestroy {
  private readonly unsubscribe: () => void;

  constructor(locks: LockService, metrics: MetricsService) {
    const lost = new Counter({
      name: 'lock_lost_total',
      help: 'Locks lost while held (lease ran out, taken over, or Redis unreachable)',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
    this.unsubscribe = locks.onLockLost((event) => lost.inc({ reason: event.reason }));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
