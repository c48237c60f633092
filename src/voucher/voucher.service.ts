import { Injectable } from '@nestjs/common';
import { ReserveBatcher } from './reserve.batcher';
import { ReconcilerStatusStore } from './reconciler-status.store';
import type { SaleStatus } from './dto/sale-status.response';
import type { AdmissionOutcome } from './admission';
import { SeckillStateStore, type ReturnedUnit } from './seckill-state.store';
import { VoucherNotFoundError } from './voucher.errors';
import { VoucherRepository } from './voucher.repository';
import { KEEP_AFTER_END_MS } from './seckill-keys';
import type { SaleRequest } from './sale-request';

/**
 * The voucher module's one exported service: a sale's live state (admission, buyers, sold-out marks,
 * returns, the ended-sales memory) and its stock row, for the order module, and the admin view of a
 * sale. Creating and reading vouchers is `VoucherCatalogService`'s (the voucher routes).
 */
@Injectable()
export class VoucherService {
  /** Sales found ended with no Redis state left: voucher id → end (ms). */
  private readonly endedSales = new Map<string, number>();

  constructor(
    private readonly repository: VoucherRepository,
    private readonly stateStore: SeckillStateStore,
    private readonly reconcilerStatus: ReconcilerStatusStore,
    private readonly reserver: ReserveBatcher,
  ) {}

  /** A seckill voucher's sale as MySQL and Redis see it, and the reconciler's last round (admin view). */
  async saleStatus(voucherId: string): Promise<SaleStatus> {
    const voucher = await this.repository.findWithSale(voucherId);
    if (!voucher?.seckill) {
      throw new VoucherNotFoundError(`Seckill voucher ${voucherId} does not exist`);
    }
    const [redis, reconciler] = await Promise.all([this.stateStore.snapshot(voucherId), this.reconcilerStatus.read()]);
    const number = (value: string | undefined) => (value === undefined ? null : Number(value));
    return {
      voucherId,
      title: voucher.title,
      beginTime: voucher.seckill.beginTime.toISOString(),
      endTime: voucher.seckill.endTime.toISOString(),
      mysqlStock: voucher.seckill.stock,
      redis: {
        published: redis.state.stock !== undefined && redis.state.begin !== undefined,
        stock: number(redis.state.stock),
        buyers: redis.buyers,
        accepted: number(redis.state.accepted),
        settled: number(redis.state.settled),
      },
      reconciler,
    };
  }

  /**
   * Admission for the order path (see `SeckillStateStore.reserve`). If Redis lost the state or
   * never got it, it is republished from MySQL first. Null if the voucher is not a seckill voucher.
   * A sale found ended (its Redis state expires a day after its end) is remembered, so requests for
   * it are answered ENDED without Redis or MySQL: once ended, a sale stays ended.
   */
  async admit(request: SaleRequest): Promise<AdmissionOutcome | null> {
    const { voucherId, userId } = request;
    const endedAt = this.endedSales.get(voucherId);
    if (endedAt !== undefined) {
      return { admission: 'ended', endMs: endedAt, retryAfterMs: 0 };
    }
    // The rate limits are checked in the same script call as the admission (shared by the requests of
    // one event-loop turn).
    const first = await this.reserver.reserve(request);
    if (first.admission !== 'unpublished') {
      return first;
    }
    const seckill = await this.repository.findSeckill(voucherId);
    if (!seckill) {
      return null;
    }
    if (await this.endedNow(voucherId, seckill.endTime)) {
      return { admission: 'ended', endMs: seckill.endTime.getTime(), retryAfterMs: 0 };
    }
    // Sync mode: MySQL is the source of truth, so a missing or partial state is overwritten.
    await this.stateStore.publish(voucherId, seckill, { overwrite: true });
    // The first call took this request's tokens already.
    return this.stateStore.reserve(voucherId, userId);
  }

  // The sale's live state in Redis and its stock row in MySQL, for the order module: the voucher
  // module owns both, and nothing outside it reaches its repository or store.

  /** The oversell guard (`UPDATE … WHERE stock > 0`) inside the caller's transaction; false when none is left. */
  decrementStock(voucherId: string): Promise<boolean> {
    return this.repository.decrementStock(voucherId);
  }

  /**
   * Redis stock + 1 with no record of an order: sync, the reserved unit of an order that did not
   * happen; and the negative control ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX's return.
   */
  releaseUnit(voucherId: string): Promise<void> {
    return this.stateStore.release(voucherId);
  }

  /** Sync: the orders committed; Redis remembers their buyers (advisory: MySQL decided). One round trip. */
  confirmBuyers(voucherId: string, userIds: readonly string[], endMs: number): Promise<void> {
    return this.stateStore.confirm(voucherId, userIds, endMs);
  }

  /**
   * MySQL had no stock left: Redis answers SOLD_OUT from now on. A unit given back meanwhile (a
   * cancelled or lapsed order: MySQL's stock first, then Redis') must not be overwritten by the 0:
   * the returns are counted first, then MySQL's committed stock is read, and the mark applies only if
   * that stock is 0 and no return reached Redis since the count (see seckill-stock.lua).
   */
  async markSoldOut(voucherId: string): Promise<void> {
    const returnedBefore = await this.stateStore.returnedCount(voucherId);
    if ((await this.repository.committedStock(voucherId)) === 0) {
      await this.stateStore.markSoldOut(voucherId, returnedBefore);
    }
  }

  /** Whether the sale's state hash is in Redis (complete). */
  isSalePublished(voucherId: string): Promise<boolean> {
    return this.stateStore.isPublished(voucherId);
  }

  /** Redis' clock (ms) that decides for this sale. */
  saleClock(voucherId: string): Promise<number> {
    return this.stateStore.now(voucherId);
  }

  /** Marks orders as given back without touching stock (their units are in a state rebuilt from MySQL). */
  markReturned(voucherId: string, orderIds: string[]): Promise<void> {
    return this.stateStore.markReturned(voucherId, orderIds);
  }

  /**
   * MySQL half of giving units back: `stock + units` inside the caller's transaction (the one that
   * cancels the orders). The Redis half is `returnUnits`, after COMMIT, relayed from the outbox.
   */
  async restock(voucherId: string, units: number): Promise<void> {
    await this.repository.incrementStock(voucherId, units);
  }

  /**
   * Redis half of giving units back: exactly once per order id (see `SeckillStateStore.returnUnits`).
   * -1: the sale has no state in Redis, nothing was done (try again, unless `isSaleOver`).
   */
  returnUnits(voucherId: string, units: ReturnedUnit[]): Promise<number> {
    return this.stateStore.returnUnits(voucherId, units);
  }

  /** Whether the sale's Redis state is gone for good: it ended more than a day ago (or never existed). */
  async isSaleOver(voucherId: string): Promise<boolean> {
    const sale = await this.repository.findSeckill(voucherId);
    return !sale || sale.endTime.getTime() + KEEP_AFTER_END_MS <= (await this.stateStore.now(voucherId));
  }

  /** Whether the sale runs now (the database's clock), inside the caller's transaction if any. */
  saleRunning(voucherId: string): Promise<boolean> {
    return this.repository.saleRunning(voucherId);
  }

  /** How many orders' units the sale got back in Redis (admin view). */
  returnedUnits(voucherId: string): Promise<number> {
    return this.stateStore.returnedCount(voucherId);
  }

  /** Ids of seckill vouchers whose sale has not ended more than `graceMs` ago. */
  async activeSeckillIds(graceMs: number): Promise<string[]> {
    return (await this.repository.activeSeckills(new Date(), graceMs)).map((seckill) => String(seckill.voucherId));
  }

  /** The end (ms) of a sale this replica found ended with no Redis state left; undefined otherwise. */
  endedAt(voucherId: string): number | undefined {
    return this.endedSales.get(voucherId);
  }

  /**
   * A sale whose Redis state is missing (async admission found it unpublished), after one MySQL read:
   * `missing` (no such seckill voucher), `ended` by Redis' clock — remembered, so later requests are
   * answered from memory (its keys expired a day after its end, or it was created already ended) —
   * or `live` (its state was lost and must be rebuilt).
   */
  async unpublishedSale(voucherId: string): Promise<'missing' | 'ended' | 'live'> {
    const seckill = await this.repository.findSeckill(voucherId);
    if (!seckill) {
      return 'missing';
    }
    return (await this.endedNow(voucherId, seckill.endTime)) ? 'ended' : 'live';
  }

  /** A seckill sale's window as MySQL has it; null if there is no such seckill voucher. */
  async saleWindow(voucherId: string): Promise<{ beginTime: Date; endTime: Date } | null> {
    const seckill = await this.repository.findSeckill(voucherId);
    return seckill && { beginTime: seckill.beginTime, endTime: seckill.endTime };
  }

  /** Whether the sale has ended by Redis' clock; an ended sale is remembered (once ended, it stays ended). */
  private async endedNow(voucherId: string, endTime: Date): Promise<boolean> {
    if (endTime.getTime() > (await this.stateStore.now(voucherId))) {
      return false;
    }
    if (this.endedSales.size >= 100_000) {
      this.endedSales.clear();
    }
    this.endedSales.set(voucherId, endTime.getTime());
    return true;
  }
}
