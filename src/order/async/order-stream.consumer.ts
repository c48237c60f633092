import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { appConfig, type AppConfig } from '../../config/app-config';
import { connectAppRedis, logConnectionErrors } from '../../redis/redis-connections';
import { KEEP_AFTER_END_MS } from '../../voucher/seckill-keys';
import { ActiveSales } from './active-sales';
import { OrderPersister, PersistenceUnavailableError } from './order-persister';
import { OrderDeliveryStore } from './order-delivery.store';
import type { StreamOrder } from './order-stream.entries';
import { ReplicaConfirmationStore } from './replica-confirmation.store';

/** XREADGROUP blocks this long, so a shutdown is noticed within it. */
const BLOCK_MS = 500;
const MAX_BACKOFF_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each replica's consumer of the orders streams (async mode): reads new entries of every active
 * sale with XREADGROUP on a dedicated connection, under the consumer name INSTANCE_ID, and persists
 * them in batches. On SIGTERM it stops reading, finishes (persists and acknowledges) the batch in
 * flight, then lets the process exit. Entries it read and never acknowledged (a crash) stay in its
 * pending list; `OrderRecovery` of another replica claims them.
 */
@Injectable()
export class OrderStreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderStreamConsumer.name);
  private connection?: AppRedis;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly sales: ActiveSales,
    private readonly stream: OrderDeliveryStore,
    private readonly replicas: ReplicaConfirmationStore,
    private readonly persister: OrderPersister,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ORDER_MODE !== 'async') {
      return;
    }
    this.connection = connectAppRedis(this.config, `${this.config.INSTANCE_ID}:orders`, {
      // A blocked read answers within BLOCK_MS; longer means Redis is stuck (e.g. paused).
      commandTimeoutMs: BLOCK_MS + 3000,
    });
    logConnectionErrors(this.connection, 'orders', this.logger);
    this.running = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.connection?.disconnect();
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (!this.stopping) {
      try {
        const voucherIds = await this.sales.list();
        if (voucherIds.length === 0) {
          await sleep(BLOCK_MS);
          continue;
        }
        const { orders, malformed } = await this.stream.read(this.connection!, {
          consumer: this.config.INSTANCE_ID,
          voucherIds,
          count: this.config.ORDER_BATCH_SIZE,
          blockMs: BLOCK_MS,
        });
        await this.persister.discard(malformed);
        const confirmed = orders.length > 0 ? await this.untilReplicated(orders) : [];
        if (confirmed.length > 0) {
          await this.persistUntilDone(confirmed);
        }
        backoff = 0;
        if (orders.length > 0 && orders.length < this.config.ORDER_BATCH_SIZE && !this.stopping) {
          // A partial batch: let the next one fill up instead of committing a few rows at a time.
          await sleep(this.config.ORDER_BATCH_LINGER_MS);
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          // A stream vanished (Redis lost data): recreate it empty so the others keep flowing;
          // the sale itself is rebuilt on its next order (SaleRebuilder).
          await this.recreateGroups().catch(() => undefined);
          // Never a hot loop, whatever keeps the group missing.
          await sleep(50);
          continue;
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2 || 50);
        this.logger.warn(`Reading the orders streams failed (retry in ${backoff} ms): ${String(error)}`);
        await sleep(backoff);
      }
    }
  }

  /**
   * ORDER_DURABILITY=replicas: waits until the replicas have the entries just read (see
   * `ReplicaConfirmationStore.confirmReplicated`), retrying while they lag; returns those the current master
   * still holds for this consumer (all of them, but after a failover that lost some). Nothing on
   * shutdown: the entries stay pending for whoever claims them.
   */
  private async untilReplicated(orders: StreamOrder[]): Promise<StreamOrder[]> {
    if (this.config.ORDER_DURABILITY !== 'replicas') {
      return orders;
    }
    for (let delay = 50; !this.stopping; delay = Math.min(MAX_BACKOFF_MS, delay * 2)) {
      const { claimed, replicated } = await this.replicas.confirmReplicated(orders, {
        consumer: this.config.INSTANCE_ID,
        replicas: this.config.ORDER_DURABILITY_REPLICAS,
        timeoutMs: this.config.ORDER_DURABILITY_TIMEOUT_MS,
        connection: this.connection,
      });
      if (replicated) {
        if (claimed.length < orders.length) {
          this.logger.warn(
            `${orders.length - claimed.length} read entries are no longer pending for this consumer on the ` +
              'current Redis master (a failover lost them, or another consumer settled them): not persisting them',
          );
        }
        return claimed;
      }
      this.logger.warn(`Read entries are not on enough Redis replicas yet; not persisting them (retry in ${delay} ms)`);
      await sleep(delay);
    }
    return [];
  }

  /**
   * Retries a batch while MySQL or Redis is unavailable: the entries stay pending (never
   * acknowledged, never dead-lettered) until they commit. On shutdown the batch is left pending.
   */
  private async persistUntilDone(orders: StreamOrder[]): Promise<void> {
    for (let delay = 50; ; delay = Math.min(MAX_BACKOFF_MS, delay * 2)) {
      try {
        await this.persister.persist(orders);
        return;
      } catch (error) {
        if (!(error instanceof PersistenceUnavailableError) || this.stopping) {
          throw error;
        }
        this.logger.warn(`${error.message} (retry in ${delay} ms)`);
        await sleep(delay);
      }
    }
  }

  private async recreateGroups(): Promise<void> {
    // A bounded life: the rebuild (or the sale's end) sets the real one.
    const expireAt = Date.now() + KEEP_AFTER_END_MS;
    for (const voucherId of await this.sales.list()) {
      await this.stream.ensureOrdersStream(voucherId, expireAt, true);
    }
  }
}
