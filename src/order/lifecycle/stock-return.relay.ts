import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { appConfig, type AppConfig } from '../../config/app-config';
import { VoucherService } from '../../voucher/voucher.service';
import { LifecycleMetrics } from './lifecycle.metrics';
import { StockReturnOutbox, type StockReturn } from './stock-return.outbox';

/** Outbox rows per sweep round, and rounds per tick (a Redis that fails every relay ends the tick). */
const SWEEP_LIMIT = 2000;
const SWEEP_ROUNDS = 10;

/**
 * The Redis half of a stock return. Whoever cancels relays its own outbox rows right after COMMIT;
 * every replica also sweeps rows older than two relay intervals (left by a replica that died in
 * between, or whose Redis call failed). The sale's Redis state records each returned order id, so
 * a row relayed twice — by its replica and a sweep, or by two sweeps — gives its unit back once.
 */
@Injectable()
export class StockReturnRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(StockReturnRelay.name);
  private sweeping = false;

  constructor(
    private readonly outbox: StockReturnOutbox,
    private readonly vouchers: VoucherService,
    private readonly metrics: LifecycleMetrics,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly scheduler: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.sweep(), this.config.ORDER_RETURN_RELAY_INTERVAL_MS);
    this.scheduler.addInterval('stock-return-relay', timer);
  }

  /**
   * Gives these committed returns' units back in Redis and deletes their outbox rows. Never throws:
   * a failure leaves the rows to the sweep.
   */
  async relay(returns: StockReturn[]): Promise<void> {
    const relayed: string[] = [];
    await Promise.all(
      returns.map(async ({ id, voucherId, units }) => {
        try {
          if (id === null) {
            // Negative control (ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX): no row, nothing records the order.
            for (let i = 0; i < units.length; i++) {
              await this.vouchers.releaseUnit(voucherId);
            }
            this.metrics.returned.inc(units.length);
            return;
          }
          const applied = await this.vouchers.returnUnits(voucherId, units);
          if (applied >= 0) {
            this.metrics.returned.inc(applied);
            relayed.push(id);
          } else if (await this.vouchers.isSaleOver(voucherId)) {
            // The sale's keys expired with it: there is nothing left to give the units back to.
            relayed.push(id);
          }
          // Otherwise the state is lost for now: the row waits for the rebuild or republish.
        } catch (error) {
          this.logger.warn(
            `Returning ${units.length} unit(s) of voucher ${voucherId} to Redis failed; the relay retries: ${String(error)}`,
          );
        }
      }),
    );
    try {
      await this.txHost.withTransaction(() => this.outbox.remove(relayed));
    } catch (error) {
      // The units are back (recorded in Redis); a row left behind is relayed again as a no-op.
      this.logger.warn(`Deleting relayed stock-return rows failed: ${String(error)}`);
    }
  }

  /** Relays outbox rows nobody relayed (all replicas sweep; the Redis side deduplicates). */
  async sweep(): Promise<void> {
    if (this.sweeping) {
      return;
    }
    this.sweeping = true;
    try {
      const minAgeMs = 2 * this.config.ORDER_RETURN_RELAY_INTERVAL_MS;
      for (let round = 0; round < SWEEP_ROUNDS; round++) {
        const stale = await this.txHost.withTransaction(() => this.outbox.stale(minAgeMs, SWEEP_LIMIT));
        await this.relay(stale);
        if (stale.length < SWEEP_LIMIT) {
          return;
        }
      }
    } catch (error) {
      this.logger.warn(`Sweeping the stock-return outbox failed: ${String(error)}`);
    } finally {
      this.sweeping = false;
    }
  }
}
