import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { pairsToRecord } from '../../redis/redis-replies';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { parseEntries, type MalformedEntry, type RawEntry, type StreamOrder } from './order-stream.entries';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';
import { consumerGroupInfo } from './order-stream.queries';

/**
 * What `SaleRebuilder` reads of a sale's surviving orders stream, beside MySQL's snapshot
 * (`SaleSnapshotRepository`): every entry, which of them are not yet acknowledged, and which orders
 * were dead-lettered. Read-only; the restore is `SaleRestoreStore`'s.
 */
@Injectable()
export class OrderStreamSnapshotStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

  /** Ids of the sale's dead-lettered orders: the failed hash and the dead-letter stream (either may survive alone). */
  async deadOrderIds(voucherId: string): Promise<Set<string>> {
    const keys = orderStreamKeys(voucherId);
    const ids = new Set(await this.redis.hkeys(keys.failed));
    const dead = (await this.redis.xrange(keys.dead, '-', '+')) as RawEntry[];
    for (const [, fields] of dead) {
      const { orderId } = pairsToRecord(fields ?? []);
      if (orderId) {
        ids.add(orderId);
      }
    }
    return ids;
  }

  /**
   * Stream ids of entries not yet acknowledged: delivered but pending (XPENDING), or not yet
   * delivered (after the group's last-delivered-id). `all: true` when there is no group: then
   * nothing was ever acknowledged.
   */
  async unackedStreamIds(voucherId: string): Promise<{ all: boolean; ids: Set<string>; lastDelivered: string }> {
    const key = orderStreamKeys(voucherId).orders;
    const lastDelivered = (await consumerGroupInfo(this.redis, voucherId))?.['last-delivered-id'] as string | undefined;
    if (lastDelivered === undefined) {
      return { all: true, ids: new Set(), lastDelivered: '0-0' };
    }
    const ids = new Set<string>();
    let start = '-';
    for (;;) {
      const page = (await this.redis.xpending(key, ORDER_CONSUMER_GROUP, start, '+', 10_000)) as [
        string,
        ...unknown[],
      ][];
      for (const [id] of page) {
        ids.add(id);
      }
      if (page.length < 10_000) {
        return { all: false, ids, lastDelivered };
      }
      start = `(${page[page.length - 1][0]}`;
    }
  }

  /** Every entry of a voucher's stream (for a rebuild), oldest first, paged. */
  async allEntries(voucherId: string, pageSize = 10_000): Promise<StreamOrder[]> {
    const key = orderStreamKeys(voucherId).orders;
    const orders: StreamOrder[] = [];
    const malformed: MalformedEntry[] = [];
    let start = '-';
    for (;;) {
      const page = (await this.redis.xrange(key, start, '+', 'COUNT', pageSize)) as RawEntry[];
      parseEntries(voucherId, page, orders, malformed);
      if (page.length < pageSize) {
        return orders;
      }
      start = `(${page[page.length - 1][0]}`;
    }
  }
}
