import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { appConfig, type AppConfig } from '../../config/app-config';
import { VoucherService } from '../../voucher/voucher.service';
import { LifecycleMetrics } from './lifecycle.metrics';
import { OrderTransitionRepository, type ExpiringOrder } from './order-transition.repository';
import { groupByVoucher } from '../group-by-voucher';
import { StockReturnOutbox, type StockReturn } from './stock-return.outbox';
import { StockReturnRelay } from './stock-return.relay';

/**
 * Cancels unpaid orders past their payment deadline (reason EXPIRED) and gives their units back.
 * The schedule is the orders' own `pay_deadline` in MySQL — nothing lives only in a process timer,
 * so a replica that dies loses no expiry — and the database's clock decides what is due. Every
 * replica scans every ORDER_EXPIRY_SCAN_INTERVAL_MS; a batch is claimed with `FOR UPDATE SKIP
 * LOCKED`, so replicas share the due orders and none is expired twice. One transaction per batch:
 * the conditional UPDATE (`status = 1`), `stock + n` per voucher and the outbox rows; the Redis half
 * follows the COMMIT through the relay.
 */
@Injectable()
export class OrderExpiryScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(OrderExpiryScheduler.name);
  private running = false;

  constructor(
    private readonly transitions: OrderTransitionRepository,
    private readonly vouchers: VoucherService,
    private readonly outbox: StockReturnOutbox,
    private readonly relay: StockReturnRelay,
    private readonly metrics: LifecycleMetrics,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly scheduler: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.scan(), this.config.ORDER_EXPIRY_SCAN_INTERVAL_MS);
    this.scheduler.addInterval('order-expiry', timer);
  }

  /** Expires every due order, batch after batch; returns how many this call expired. */
  async scan(): Promise<number> {
    if (this.running) {
      return 0;
    }
    this.running = true;
    let expired = 0;
    try {
      for (;;) {
        const { due, returns } = await this.expireBatch();
        expired += due.length;
        // The next batch's transaction starts while this one's units go back to Redis.
        const relayed = this.relay.relay(returns);
        if (due.length < this.config.ORDER_EXPIRY_BATCH_SIZE) {
          await relayed;
          return expired;
        }
        void relayed;
      }
    } catch (error) {
      this.logger.warn(`Expiring unpaid orders failed (the next scan retries): ${String(error)}`);
      return expired;
    } finally {
      this.running = false;
    }
  }

  private expireBatch(): Promise<{ due: ExpiringOrder[]; returns: StockReturn[] }> {
    return this.txHost
      .withTransaction(async () => {
        const due = await this.transitions.claimExpired(this.config.ORDER_EXPIRY_BATCH_SIZE);
        if (due.length === 0) {
          return { due, returns: [] };
        }
        // Every claimed row is locked by this transaction and unpaid, so each UPDATE matches it.
        await this.transitions.expire(due.map((order) => order.orderId));
        // Stock rows in one order (by voucher id) in every batch: two replicas' batches never wait
        // on each other's rows crosswise (a deadlock).
        const sorted = [...due].sort((a, b) => compareIds(a.voucherId, b.voucherId));
        const returns = this.config.ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX
          ? [...groupByVoucher(sorted)].map(([voucherId, units]) => ({ id: null, voucherId, units }))
          : await this.outbox.add(sorted);
        // The hot stock rows last: locked only from these UPDATEs to COMMIT, so the sale (and the
        // other replicas' batches) wait on them as briefly as possible.
        for (const { voucherId, units } of returns) {
          await this.vouchers.restock(voucherId, units.length);
        }
        return { due, returns };
      })
      .then((batch) => {
        this.metrics.transitions.inc({ transition: 'expire' }, batch.due.length);
        for (const order of batch.due) {
          this.metrics.expiryLateness.observe(Math.max(0, order.lateMs) / 1000);
        }
        return batch;
      });
  }
}

/** Decimal ids in numeric order. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
