import { Injectable, Logger } from '@nestjs/common';
import { LockService } from '../../lock/lock.service';
import { SeckillStateStore } from '../../voucher/seckill-state.store';
import { OrderBatchRepository } from './order-batch.repository';
import { OrderStreamMetrics } from './order-stream.metrics';
import { OrderStreamStore } from './order-stream.store';

const REBUILD_LEASE_MS = 60_000;

/**
 * Rebuilds a sale's Redis state when it is missing in async mode (Redis lost data beyond the
 * durability contract: FLUSHALL, a server started empty). MySQL's stock does not count the
 * accepted orders still in the stream, so the sale stays closed (503 SALE_UNAVAILABLE) until this
 * has run, under a cluster-wide lock:
 *
 *   stock   = MySQL stock (consistent snapshot) − surviving entries not in that snapshot
 *   buyers  = MySQL's buyers ∪ those entries' users
 *   pending = those entries
 *
 * Entries persisted after the snapshot are still in the stream (it is never trimmed), so they are
 * counted once. Orders accepted but neither in MySQL nor in a surviving entry cannot be recovered:
 * they answer 404, never PENDING forever, and the rebuild logs what it found.
 */
@Injectable()
export class SaleRebuilder {
  private readonly logger = new Logger(SaleRebuilder.name);
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly locks: LockService,
    private readonly repository: OrderBatchRepository,
    private readonly stream: OrderStreamStore,
    private readonly stateStore: SeckillStateStore,
    private readonly metrics: OrderStreamMetrics,
  ) {}

  /** Starts a rebuild of this sale unless one runs in this process; resolves true if this call rebuilt it. */
  request(voucherId: string): Promise<boolean> {
    let running = this.inFlight.get(voucherId);
    if (!running) {
      running = this.rebuild(voucherId)
        .catch((error: unknown) => {
          this.logger.warn(`Rebuilding the sale state of voucher ${voucherId} failed: ${String(error)}`);
          return false;
        })
        .finally(() => this.inFlight.delete(voucherId));
      this.inFlight.set(voucherId, running);
    }
    return running;
  }

  private async rebuild(voucherId: string): Promise<boolean> {
    const handle = await this.locks.getLock(`seckill-rebuild:${voucherId}`).tryLock({ leaseTime: REBUILD_LEASE_MS });
    if (!handle) {
      return false;
    }
    try {
      if (await this.stateStore.isPublished(voucherId)) {
        return false;
      }
      const snapshot = await this.repository.snapshot(voucherId);
      if (!snapshot) {
        return false;
      }
      const inMysql = new Set(snapshot.orders.map((order) => order.orderId));
      const failed = await this.stream.failedOrderIds(voucherId);
      const pending = new Map<string, string>();
      for (const entry of await this.stream.allEntries(voucherId)) {
        if (!inMysql.has(entry.orderId) && !failed.has(entry.orderId)) {
          pending.set(entry.orderId, entry.userId);
        }
      }
      const buyers = new Set(snapshot.orders.map((order) => order.userId));
      for (const userId of pending.values()) {
        buyers.add(userId);
      }
      const stock = snapshot.stock - pending.size;
      if (stock < 0) {
        this.logger.error(`Voucher ${voucherId}: ${pending.size} pending orders exceed MySQL stock ${snapshot.stock}`);
      }
      await this.stateStore.restore(voucherId, {
        stock: Math.max(0, stock),
        beginTime: snapshot.beginTime,
        endTime: snapshot.endTime,
        buyers: [...buyers],
        pending: [...pending].map(([orderId, userId]) => ({ orderId, userId })),
      });
      this.metrics.rebuilds.inc();
      this.logger.warn(
        `Voucher ${voucherId}: sale state was missing in Redis and has been rebuilt from MySQL ` +
          `(${snapshot.orders.length} orders, stock ${snapshot.stock}) and ${pending.size} surviving ` +
          'unpersisted stream entries. Orders accepted but in neither (a Redis that lost its data) ' +
          'cannot be recovered; see docs/ARCHITECTURE.md.',
      );
      return true;
    } finally {
      await handle.unlock().catch(() => undefined);
    }
  }
}
