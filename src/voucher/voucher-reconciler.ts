import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, type AppConfig } from '../config/app-config';
import { LockService } from '@seckill/lock';
import { ReconcilerStatusStore } from './reconciler-status.store';
import { SeckillStateStore } from './seckill-state.store';
import { VoucherRepository } from './voucher.repository';

const GRACE_MS = 24 * 3600 * 1000;

/**
 * Repairs the Redis sale state from MySQL (the source of truth in synchronous mode only): a publish that
 * failed at creation, a Redis restart, drift. One replica does it per round (a lock, not a leader).
 */
@Injectable()
export class VoucherReconciler implements OnApplicationBootstrap {
  private readonly logger = new Logger(VoucherReconciler.name);
  /** MySQL stock per voucher at the previous round, to tell a quiet sale from a running one. */
  private lastSeen = new Map<string, number>();

  constructor(
    private readonly repository: VoucherRepository,
    private readonly saleState: SeckillStateStore,
    private readonly locks: LockService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly status: ReconcilerStatusStore,
  ) {}

  /** Every RECONCILE_INTERVAL_MS (registered with the scheduler, which clears it on shutdown). */
  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.scheduled(), this.config.RECONCILE_INTERVAL_MS);
    this.scheduler.addInterval('voucher-reconcile', timer);
  }

  async scheduled(): Promise<void> {
    // In async mode MySQL's stock lags Redis by the orders still in the streams: republishing it
    // would sell them twice. There a missing state is rebuilt by the order module (SaleRebuilder).
    if (this.config.ORDER_MODE === 'async') {
      return;
    }
    try {
      await this.reconcile();
    } catch (error) {
      this.logger.warn(`Reconciliation failed: ${String(error)}`);
      await this.status
        .record({ instanceId: this.config.INSTANCE_ID, repaired: 0, error: String(error) })
        .catch(() => undefined);
    }
  }

  /** Returns how many vouchers were republished; 0 if another replica is on it. */
  async reconcile(): Promise<number> {
    const handle = await this.locks
      .getLock('voucher:reconcile')
      .tryLock({ leaseTime: this.config.RECONCILE_INTERVAL_MS });
    if (!handle) {
      return 0;
    }
    try {
      const active = await this.repository.activeSeckills(new Date(), GRACE_MS);
      let repaired = 0;
      const seen = new Map<string, number>();
      for (const seckill of active) {
        seen.set(seckill.voucherId, seckill.stock);
        const cached = await this.saleState.stock(seckill.voucherId);
        // During a sale Redis is legitimately below MySQL by the units reserved in flight, so a
        // differing stock is only repaired once MySQL stood still for a whole round; a missing
        // state is repaired at once.
        const idle = this.lastSeen.get(seckill.voucherId) === seckill.stock;
        if (cached === null || (cached !== seckill.stock && idle)) {
          await this.saleState.publish(seckill.voucherId, seckill, { overwrite: true });
          repaired++;
        }
      }
      this.lastSeen = seen;
      await this.status.record({ instanceId: this.config.INSTANCE_ID, repaired }).catch(() => undefined);
      return repaired;
    } finally {
      await handle.unlock().catch(() => undefined);
    }
  }
}
