import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { pairsToRecord } from '../../redis/redis-replies';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';
import type { OrderLookup } from '../async-orders';

/**
 * Read-only views of the async order path's Redis keys (the writes are the `*.store.ts` classes' beside
 * it): an order's state while it is not in MySQL, and a sale's backlog (the admin view, the gauges).
 * What a rebuild reads is `OrderStreamSnapshotStore`'s.
 */
@Injectable()
export class OrderStreamQueries {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

  /** Finds an order that is not (yet) in MySQL among the given sales: pending or failed. */
  async lookup(orderId: string, voucherIds: string[]): Promise<OrderLookup | null> {
    if (voucherIds.length === 0) {
      return null;
    }
    // One command per hash (sent together by auto-pipelining): one pipeline may not span the slots
    // of several sales on a Cluster.
    const replies = await Promise.all(
      voucherIds.flatMap((voucherId) => {
        const keys = orderStreamKeys(voucherId);
        return [this.redis.hget(keys.pending, orderId), this.redis.hget(keys.failed, orderId)];
      }),
    );
    for (let i = 0; i < voucherIds.length; i++) {
      const pendingUser = replies[2 * i];
      const failed = replies[2 * i + 1];
      if (failed) {
        const [userId, reason] = splitOnce(failed, ':');
        return { state: 'FAILED', orderId, userId, voucherId: voucherIds[i], reason };
      }
      if (pendingUser) {
        return { state: 'PENDING', orderId, userId: pendingUser, voucherId: voucherIds[i] };
      }
    }
    return null;
  }

  /**
   * Entries accepted but not yet acknowledged by a consumer, per the group (0 if no group): delivered
   * and pending, and not yet delivered (lag); and the stream's length (it is never trimmed while the
   * sale lives, so this is every order the sale accepted).
   */
  async backlog(voucherId: string): Promise<{ pending: number; lag: number; length: number }> {
    const [group, length] = await Promise.all([
      consumerGroupInfo(this.redis, voucherId),
      this.redis.xlen(orderStreamKeys(voucherId).orders),
    ]);
    return { pending: Number(group?.pending ?? 0), lag: Number(group?.lag ?? 0), length };
  }

  /** Accepted orders not yet persisted (pending) and dead-lettered (failed), per the sale's hashes. */
  async orderCounts(voucherId: string): Promise<{ pending: number; failed: number }> {
    const keys = orderStreamKeys(voucherId);
    const [pending, failed] = await Promise.all([this.redis.hlen(keys.pending), this.redis.hlen(keys.failed)]);
    return { pending, failed };
  }
}

/**
 * XINFO GROUPS of the voucher's stream, the consumer group's entry; undefined without stream or group.
 * Also what a rebuild asks (`OrderStreamSnapshotStore.unackedStreamIds`).
 */
export async function consumerGroupInfo(
  redis: AppRedis,
  voucherId: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const groups = (await redis.xinfo('GROUPS', orderStreamKeys(voucherId).orders)) as unknown[][];
    return groups.map((group) => pairsToRecord(group)).find((record) => record.name === ORDER_CONSUMER_GROUP);
  } catch (error) {
    // No stream (yet, or any more): no group either. Anything else (Redis down) is the caller's 503.
    if (error instanceof Error && /no such key/i.test(error.message)) {
      return undefined;
    }
    throw error;
  }
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}
