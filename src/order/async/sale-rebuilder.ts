import { Injectable, Logger } from '@nestjs/common';
import { LockService } from '@seckill/lock';
import { SaleSnapshotRepository } from './sale-snapshot.repository';
import { OrderStreamMetrics } from './order-stream.metrics';
import { OrderStreamSnapshotStore } from './order-stream-snapshot.store';
import { ActiveSales } from './active-sales';
import { SaleRestoreStore } from './sale-restore.store';
import { KEEP_AFTER_END_MS } from '../../voucher/seckill-keys';
import { VoucherService } from '../../voucher/voucher.service';

/**
 * Rebuilds a sale's Redis state when it is missing in async mode (Redis lost data beyond the
 * durability contract: FLUSHALL, a server started empty). MySQL's stock does not count the
 * accepted orders still in the stream, so the sale stays closed (503 SALE_UNAVAILABLE) until this
 * has run, under a cluster-wide lock:
 *
 *   sold    = surviving entries neither in that snapshot (same id and buyer) nor dead-lettered
 *   stock   = MySQL stock (consistent snapshot) − |sold|
 *   buyers  = MySQL's buyers ∪ sold entries' users
 *   pending = sold entries not yet acknowledged (pending in the group, or not yet delivered)
 *
 * Entries persisted after the snapshot are still in the stream (it is never trimmed), so they are
 * counted once; they are acknowledged already, so they are not pending. Orders accepted but neither in MySQL nor in a surviving entry cannot be recovered:
 * they answer 404, never PENDING forever, and the rebuild logs what it found.
 */
@Injectable()
export class SaleRebuilder {
  private readonly logger = new Logger(SaleRebuilder.name);
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly locks: LockService,
    private readonly repository: SaleSnapshotRepository,
    private readonly stream: OrderStreamSnapshotStore,
    private readonly metrics: OrderStreamMetrics,
    private readonly sales: ActiveSales,
    private readonly vouchers: VoucherService,
    private readonly restorer: SaleRestoreStore,
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
    // No lease: the watchdog keeps the lock for as long as the rebuild runs.
    const handle = await this.locks.getLock(`seckill-rebuild:${voucherId}`).tryLock();
    if (!handle) {
      return false;
    }
    try {
      if (await this.vouchers.isSalePublished(voucherId)) {
        return false;
      }
      // The window first (one row): a sale whose keys expired with it has nothing to reopen, and
      // its orders need not be read.
      const window = await this.vouchers.saleWindow(voucherId);
      if (!window) {
        return false;
      }
      if (window.endTime.getTime() + KEEP_AFTER_END_MS <= (await this.vouchers.saleClock(voucherId))) {
        this.sales.forget(voucherId);
        return false;
      }
      const snapshot = await this.repository.snapshot(voucherId);
      if (!snapshot) {
        return false;
      }
      const inMysql = new Set(snapshot.orders.map((order) => `${order.orderId}:${order.userId}`));
      const dead = await this.stream.deadOrderIds(voucherId);
      const unacked = await this.stream.unackedStreamIds(voucherId);
      // Entries sold but not in the snapshot (still pending, or committed after it) take stock;
      // only the unacknowledged ones are still pending.
      const sold = new Map<string, string>();
      const pending = new Map<string, string>();
      for (const entry of await this.stream.allEntries(voucherId)) {
        if (inMysql.has(`${entry.orderId}:${entry.userId}`) || dead.has(entry.orderId)) {
          continue;
        }
        sold.set(entry.orderId, entry.userId);
        if (
          unacked.all ||
          unacked.ids.has(entry.streamId) ||
          compareStreamIds(entry.streamId, unacked.lastDelivered) > 0
        ) {
          pending.set(entry.orderId, entry.userId);
        }
      }
      // A cancelled or refunded order's buyer may buy again.
      const buyers = new Set(snapshot.liveBuyers);
      for (const userId of sold.values()) {
        buyers.add(userId);
      }
      const stock = snapshot.stock - sold.size;
      if (stock < 0) {
        this.logger.error(`Voucher ${voucherId}: ${sold.size} unpersisted orders exceed MySQL stock ${snapshot.stock}`);
      }
      // Returns committed before the snapshot are in its stock: their relay must not add them again.
      await this.vouchers.markReturned(voucherId, snapshot.returnsInFlight);
      const restored = await this.restorer.restore(voucherId, {
        stock: Math.max(0, stock),
        beginTime: snapshot.beginTime,
        endTime: snapshot.endTime,
        buyers: [...buyers],
        pending: [...pending].map(([orderId, userId]) => ({ orderId, userId })),
      });
      if (!restored) {
        return false;
      }
      this.metrics.rebuilds.inc();
      this.logger.warn(
        `Voucher ${voucherId}: sale state was missing in Redis and has been rebuilt from MySQL ` +
          `(${snapshot.orders.length} orders, stock ${snapshot.stock}) and the surviving stream ` +
          `(${sold.size} orders not in that snapshot, ${pending.size} of them still pending). Orders ` +
          'accepted but in neither (a Redis that lost its data) cannot be recovered; see docs/ARCHITECTURE.md.',
      );
      return true;
    } finally {
      await handle.unlock().catch(() => undefined);
    }
  }
}

/** Orders stream ids `ms-seq` numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) {
    return aMs < bMs ? -1 : 1;
  }
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
