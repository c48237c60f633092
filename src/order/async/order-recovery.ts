import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { appConfig, type AppConfig } from '../../config/app-config';
import { ActiveSales } from './active-sales';
import { OrderPersister } from './order-persister';
import { OrderStreamMetrics } from './order-stream.metrics';
import { OrderStreamQueries } from './order-stream.queries';
import { OrderDeliveryStore } from './order-delivery.store';
import type { StreamOrder } from './order-stream.entries';
import { ReplicaConfirmationStore } from './replica-confirmation.store';
import { SaleRebuilder } from './sale-rebuilder';
import { VoucherService } from '../../voucher/voucher.service';

/** Claim rounds per sale and tick, each of up to ORDER_BATCH_SIZE entries. */
const MAX_PAGES = 20;

/**
 * Crash recovery of the async path, in every replica: entries pending longer than
 * ORDER_CLAIM_IDLE_MS (their consumer died, is stuck, or failed them) are claimed with XAUTOCLAIM
 * and persisted here; the persister dead-letters an entry that keeps failing by itself. Also
 * rebuilds sales whose Redis state vanished and refreshes the stream gauges.
 */
@Injectable()
export class OrderRecovery implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderRecovery.name);
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly sales: ActiveSales,
    private readonly delivery: OrderDeliveryStore,
    private readonly replicas: ReplicaConfirmationStore,
    private readonly queries: OrderStreamQueries,
    private readonly persister: OrderPersister,
    private readonly metrics: OrderStreamMetrics,
    private readonly vouchers: VoucherService,
    private readonly rebuilder: SaleRebuilder,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ORDER_MODE !== 'async') {
      return;
    }
    const everyMs = Math.max(100, Math.floor(this.config.ORDER_CLAIM_IDLE_MS / 2));
    this.timer = setInterval(() => {
      this.round ??= this.recover()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`Recovery round failed: ${String(error)}`))
        .finally(() => (this.round = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /**
   * ORDER_DURABILITY=replicas: the claimed entries the replicas have and the current master still
   * holds for this replica (see `confirmReplicated`); undefined while the replicas lag.
   */
  private async replicated(orders: StreamOrder[]): Promise<StreamOrder[] | undefined> {
    if (this.config.ORDER_DURABILITY !== 'replicas' || orders.length === 0) {
      return orders;
    }
    const { claimed, replicated } = await this.replicas.confirmReplicated(orders, {
      consumer: this.config.INSTANCE_ID,
      replicas: this.config.ORDER_DURABILITY_REPLICAS,
      timeoutMs: this.config.ORDER_DURABILITY_TIMEOUT_MS,
    });
    return replicated ? claimed : undefined;
  }

  /**
   * One round over every active sale; returns how many entries were claimed. Each sale is recovered
   * on its own: one that fails (a NOGROUP on its stream, its master down) is logged and the others
   * still have their idle entries claimed.
   */
  async recover(): Promise<number> {
    let claimed = 0;
    let pending = 0;
    let lag = 0;
    let length = 0;
    for (const voucherId of await this.sales.list()) {
      try {
        claimed += await this.recoverSale(voucherId);
        const backlog = await this.queries.backlog(voucherId);
        pending += backlog.pending;
        lag += backlog.lag;
        length += backlog.length;
      } catch (error) {
        this.logger.warn(`Recovery of voucher ${voucherId} failed: ${String(error)}`);
      }
    }
    this.metrics.pendingEntries.set(pending);
    this.metrics.lag.set(lag);
    this.metrics.streamLength.set(length);
    return claimed;
  }

  /** Claims and persists one sale's idle entries (rebuilding its state first if it vanished). */
  private async recoverSale(voucherId: string): Promise<number> {
    // A sale whose state vanished is rebuilt even if nobody orders (its orders must not stay PENDING).
    if (!(await this.vouchers.isSalePublished(voucherId))) {
      await this.rebuilder.request(voucherId);
    }
    let claimed = 0;
    let cursor = '0-0';
    for (let page = 0; page < MAX_PAGES; page++) {
      const found = await this.delivery.claimIdle({
        voucherId,
        consumer: this.config.INSTANCE_ID,
        minIdleMs: this.config.ORDER_CLAIM_IDLE_MS,
        count: this.config.ORDER_BATCH_SIZE,
        cursor,
      });
      cursor = found.next;
      if (found.deleted.length > 0) {
        this.logger.error(
          `Voucher ${voucherId}: ${found.deleted.length} pending entries were deleted from the stream ` +
            `and cannot be recovered: ${found.deleted.join(', ')}`,
        );
      }
      const total = found.orders.length + found.malformed.length;
      claimed += total;
      this.metrics.claimed.inc(total);
      await this.persister.discard(found.malformed);
      const confirmed = await this.replicated(found.orders);
      if (!confirmed) {
        // Claimed, not persisted: they stay pending under this replica and are claimed again later.
        this.logger.warn(`Voucher ${voucherId}: claimed entries are not on enough Redis replicas yet`);
        break;
      }
      await this.persister.persist(confirmed);
      // The whole pending list was scanned (a page may be empty while idle entries lie further on).
      if (cursor === '0-0') {
        break;
      }
    }
    return claimed;
  }
}
