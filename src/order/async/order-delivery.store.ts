import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { parseEntries, type MalformedEntry, type RawEntry, type StreamOrder } from './order-stream.entries';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';

/** On a Cluster, how long a read of several sales' streams that found nothing waits before the next. */
const CLUSTER_POLL_MS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The voucher streams' consumer group and what it delivers: the stream and its group created (with a
 * sale's publish, again after Redis lost them, before a rebuild's restore), new entries read by a
 * replica's consumer (`OrderStreamConsumer`), idle entries of a dead or stuck one claimed
 * (`OrderRecovery`). Leaving the pending list is `OrderSettlementStore`'s.
 */
@Injectable()
export class OrderDeliveryStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

  /**
   * Creates the voucher's orders stream and its consumer group if missing. `expireAt` sets its TTL;
   * with `keepTtl` only if it has none yet.
   */
  async ensureOrdersStream(voucherId: string, expireAt?: number, keepTtl = false): Promise<void> {
    const orders = orderStreamKeys(voucherId).orders;
    try {
      // From id 0: a group created after entries were appended still delivers all of them.
      await this.redis.xgroup('CREATE', orders, ORDER_CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
        throw error;
      }
    }
    if (expireAt !== undefined) {
      await (keepTtl ? this.redis.pexpireat(orders, expireAt, 'NX') : this.redis.pexpireat(orders, expireAt));
    }
  }

  /**
   * XREADGROUP of new entries on several vouchers' streams at once, on a dedicated (blocking)
   * connection, waiting up to `blockMs` for some. Returns the orders and any malformed entries.
   *
   * On a Cluster one command may not name streams of several slots, and a blocked read would hold
   * up the node's one connection for the other streams on that node: each voucher's stream is read
   * without blocking, all at once, and when all were empty the call waits `CLUSTER_POLL_MS` (less
   * than `blockMs`) — so a new order waits at most that long to be read.
   */
  async read(
    connection: AppRedis,
    options: { consumer: string; voucherIds: string[]; count: number; blockMs: number },
  ): Promise<{ orders: StreamOrder[]; malformed: MalformedEntry[] }> {
    const orders: StreamOrder[] = [];
    const malformed: MalformedEntry[] = [];
    if (!connection.isCluster || options.voucherIds.length === 1) {
      await this.readGroup(connection, { ...options, orders, malformed });
      return { orders, malformed };
    }
    // One stream failing (NOGROUP, its master down) must not strand what the others delivered: keep
    // it, and fail the call only when nothing was read.
    const results = await Promise.allSettled(
      options.voucherIds.map((voucherId) =>
        this.readGroup(connection, { ...options, voucherIds: [voucherId], blockMs: undefined, orders, malformed }),
      ),
    );
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure && orders.length === 0 && malformed.length === 0) {
      throw failure.reason;
    }
    if (orders.length === 0 && malformed.length === 0) {
      await sleep(Math.min(options.blockMs, CLUSTER_POLL_MS));
    }
    return { orders, malformed };
  }

  private async readGroup(
    connection: AppRedis,
    options: {
      consumer: string;
      voucherIds: string[];
      count: number;
      blockMs?: number;
      orders: StreamOrder[];
      malformed: MalformedEntry[];
    },
  ): Promise<void> {
    const streams = options.voucherIds.map((id) => orderStreamKeys(id).orders);
    const block = options.blockMs === undefined ? [] : ['BLOCK', options.blockMs];
    const reply = (await connection.xreadgroup(
      'GROUP',
      ORDER_CONSUMER_GROUP,
      options.consumer,
      'COUNT',
      options.count,
      ...(block as ['BLOCK', number]),
      'STREAMS',
      ...streams,
      ...streams.map(() => '>'),
    )) as [string, RawEntry[]][] | null;
    for (const [stream, entries] of reply ?? []) {
      const voucherId = options.voucherIds[streams.indexOf(stream)];
      parseEntries(voucherId, entries, options.orders, options.malformed);
    }
  }

  /**
   * Claims entries of one voucher idle for at least `minIdleMs` (their consumer died or is stuck)
   * for `consumer`, up to `count`. Entries deleted from the stream while pending are acknowledged
   * and returned as `deleted` (they cannot be recovered: the stream is never trimmed, so this only
   * happens by hand).
   */
  async claimIdle(options: {
    voucherId: string;
    consumer: string;
    minIdleMs: number;
    count: number;
    /** Where to go on scanning the pending list (`next` of the previous page); `0-0` first. */
    cursor?: string;
  }): Promise<{ orders: StreamOrder[]; malformed: MalformedEntry[]; deleted: string[]; next: string }> {
    const key = orderStreamKeys(options.voucherId).orders;
    const reply = (await this.redis.xautoclaim(
      key,
      ORDER_CONSUMER_GROUP,
      options.consumer,
      options.minIdleMs,
      options.cursor ?? '0-0',
      'COUNT',
      options.count,
    )) as [string, RawEntry[], string[]?];
    const orders: StreamOrder[] = [];
    const malformed: MalformedEntry[] = [];
    parseEntries(options.voucherId, reply[1], orders, malformed);
    const deleted = reply[2] ?? [];
    if (deleted.length > 0) {
      await this.redis.xack(key, ORDER_CONSUMER_GROUP, ...deleted);
    }
    return { orders, malformed, deleted, next: reply[0] };
  }
}
