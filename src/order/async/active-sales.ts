import { Injectable } from '@nestjs/common';
import { KEEP_AFTER_END_MS } from '../../voucher/seckill-keys';
import { VoucherService } from '../../voucher/voucher.service';

const REFRESH_MS = 1000;

/**
 * The seckill vouchers whose orders streams consumers read and status lookups search: every sale
 * not ended more than a day ago (its Redis keys' lifetime), read from MySQL at most once a second.
 * Vouchers seen by this replica's admission are added at once and kept for the process's life.
 */
@Injectable()
export class ActiveSales {
  private ids = new Set<string>();
  /** Seen by this replica's admission: kept even if MySQL's list misses them (a sale row gone). */
  private readonly seen = new Set<string>();
  private refreshedAt = 0;
  private refreshing?: Promise<void>;

  constructor(private readonly vouchers: VoucherService) {}

  /** The current list; refreshed from MySQL when older than a second (the old list if MySQL fails). */
  async list(): Promise<string[]> {
    if (Date.now() - this.refreshedAt >= REFRESH_MS) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
      await this.refreshing.catch(() => undefined);
    }
    return [...this.ids];
  }

  /**
   * The list read from MySQL now (after any refresh already in flight, which may have started
   * before the sale existed), e.g. to look up an order of a sale created a moment ago.
   */
  async fresh(): Promise<string[]> {
    await this.refreshing?.catch(() => undefined);
    this.refreshedAt = 0;
    return this.list();
  }

  /** A sale whose keys have expired: no longer read or searched (until MySQL lists it again). */
  forget(voucherId: string): void {
    this.seen.delete(voucherId);
    this.ids.delete(voucherId);
  }

  add(voucherId: string): void {
    if (!this.seen.has(voucherId)) {
      this.seen.add(voucherId);
      this.ids.add(voucherId);
    }
  }

  private async refresh(): Promise<void> {
    try {
      this.ids = new Set([...(await this.vouchers.activeSeckillIds(KEEP_AFTER_END_MS)), ...this.seen]);
    } finally {
      // While MySQL is down, keep the last list and ask again a second later, not on every call.
      this.refreshedAt = Date.now();
    }
  }
}
