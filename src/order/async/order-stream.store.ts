/* eslint-disable max-lines -- still the writers of every collaborator of the order stream (admission,
   consumers, recovery, dead letters, rebuild); issue 22 part 3 splits it by collaborator. */
import { Inject, Injectable } from '@nestjs/common';
import type { LockScriptClient } from '@seckill/lock/lua';
import { masterOf, onNodeOf, type AppRedis } from '../../redis/redis-connections';
import { RedisScript, writtenAtOnce } from '../../redis/redis-script';
import { ADMISSION_BATCH_LUA } from '../../voucher/admission-batch.lua';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { KEEP_AFTER_END_MS, RESTOCK_CHANNEL } from '../../voucher/seckill-keys';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';
import { ADMIT_ADMISSIONS, type Admission } from '../../voucher/admission';
import { SECKILL_ADMIT_LUA } from './seckill-admit.lua';
import { SECKILL_COMPENSATE_LUA } from './seckill-compensate.lua';
import { SECKILL_SETTLE_LUA } from './seckill-settle.lua';
import { parseEntries, type MalformedEntry, type RawEntry, type StreamOrder } from './order-stream.entries';
import { groupByVoucher } from '../group-by-voucher';

// 4 keys of the sale, then two rate-limit buckets per request (ORDER_ADMISSION_BATCH_MAX ≤ 1,000).
const admitScript = RedisScript.withPrelude(ADMISSION_BATCH_LUA, {
  name: 'seckill-admit.lua',
  source: SECKILL_ADMIT_LUA,
  keys: [4, 2004],
});
/** The admission script's rate arguments when no limit applies. */
const NO_LIMITS = [0, 1, 0, 1] as const;
const settleScript = RedisScript.of('seckill-settle.lua', SECKILL_SETTLE_LUA, 3);
const compensateScript = RedisScript.of('seckill-compensate.lua', SECKILL_COMPENSATE_LUA, 7);

/** On a Cluster, how long a read of several sales' streams that found nothing waits before the next. */
export const CLUSTER_POLL_MS = 20;

export type { MalformedEntry, StreamOrder } from './order-stream.entries';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redis side of the asynchronous order path: the admission script, the voucher streams and their
 * consumer group, settlement, dead-lettering and replica confirmation. Only this class writes those
 * keys — but for the rebuild's atomic restore of the pending hash (`SaleRestoreStore`);
 * `OrderStreamQueries` reads them (status lookups, backlog, what a rebuild needs).
 */
@Injectable()
export class OrderStreamStore {
  /** The admission script's KEYS per voucher, built once (the sale path runs thousands of times a second). */
  private readonly admitKeys = new Map<string, string[]>();

  /** The connection's EVALSHA for the admission script, written at once (see `admitBatch`). */
  private readonly admitClient: LockScriptClient;

  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {
    this.admitClient = writtenAtOnce(redis);
  }

  /** Admission of one request (window by Redis TIME, stock, buyer, backlog) and, if accepted, the XADD. */
  async admit(options: {
    voucherId: string;
    userId: string;
    orderId: string;
    maxBacklog: number;
  }): Promise<{ admission: Admission; endMs: number }> {
    const { admissions, endMs } = await this.admitBatch({
      voucherId: options.voucherId,
      maxBacklog: options.maxBacklog,
      requests: [{ userId: options.userId, orderId: options.orderId }],
    });
    return { admission: admissions[0].admission, endMs };
  }

  /**
   * Admission of several requests for one voucher in one round trip, decided in the given order
   * (as if one after another): one outcome per request. With `rates`, every request carries its
   * rate-limit buckets and is checked against them first (`rate-limited`, with when to retry).
   */
  admitBatch(options: {
    voucherId: string;
    maxBacklog: number;
    requests: readonly { userId: string; orderId: string; buckets?: readonly [string, string] }[];
    /** userRate, userBurst, addressRate, addressBurst (see RateLimitPolicy). */
    rates?: readonly [number, number, number, number];
  }): Promise<{ admissions: { admission: Admission; retryAfterMs: number }[]; endMs: number }> {
    let saleKeys = this.admitKeys.get(options.voucherId);
    if (!saleKeys) {
      if (this.admitKeys.size >= 10_000) {
        this.admitKeys.clear();
      }
      const all = orderStreamKeys(options.voucherId);
      saleKeys = [all.state, all.buyers, all.orders, all.pending];
      this.admitKeys.set(options.voucherId, saleKeys);
    }
    const keys = [...saleKeys];
    const args: (string | number)[] = [
      options.maxBacklog,
      KEEP_AFTER_END_MS,
      options.voucherId,
      ...(options.rates ?? NO_LIMITS),
    ];
    for (const request of options.requests) {
      args.push(request.userId, request.orderId);
      if (options.rates) {
        keys.push(...request.buckets!);
      }
    }
    // Batched by the caller already (AdmissionBatcher: one call per voucher and event-loop turn, or a
    // full batch at once), so written at once: the auto-pipeline would only add a pipeline and a turn.
    // With ORDER_ADMISSION_BATCH_MAX=1 that is one socket write per request.
    return admitScript.call(this.admitClient, keys, args, ([endMs, ...outcomes]: number[]) => {
      const admissions: { admission: Admission; retryAfterMs: number }[] = [];
      for (let i = 0; i < outcomes.length; i += 2) {
        admissions.push({ admission: ADMIT_ADMISSIONS[outcomes[i]], retryAfterMs: outcomes[i + 1] });
      }
      return { admissions, endMs: Number(endMs) };
    });
  }

  /**
   * WAIT for `replicas` replicas of the sale's master to have every write sent so far on the shared
   * connection (the admission's included); resolves how many confirmed within `timeoutMs`. WAIT
   * counts the writes of the connection it runs on, so on a Cluster it goes to the node that owns
   * the sale's slot.
   */
  async waitForReplicas(
    voucherId: string,
    options: { replicas: number; timeoutMs: number; connection?: AppRedis },
  ): Promise<number> {
    const [acknowledged] = await onNodeOf(
      options.connection ?? this.redis,
      orderStreamKeys(voucherId).state,
      (pipeline) => pipeline.wait(options.replicas, options.timeoutMs),
    );
    return acknowledged as number;
  }

  /**
   * ORDER_DURABILITY=replicas, before persisting entries read or claimed: which of them the sale's
   * current master holds in `consumer`'s pending list, and whether `replicas` replicas have them.
   * Both are asked on one connection, in one pipeline per master: `XCLAIM … JUSTID` of the entries to
   * the consumer — a write of this connection, after the entries' XADDs in the master's replication
   * stream — then `WAIT`. WAIT counts only the writes of the connection it runs on: after a reconnect
   * (a failover) the read that put the entries in the pending list was another connection's, and a
   * WAIT alone would return at once, proving nothing. An entry the claim does not return is not in
   * this master's pending list (lost in a failover, or settled by another consumer meanwhile): it
   * must not be persisted — a promoted replica that never had it may sell its unit again.
   */
  async confirmReplicated(
    orders: StreamOrder[],
    options: { consumer: string; replicas: number; timeoutMs: number; connection?: AppRedis },
  ): Promise<{ claimed: StreamOrder[]; replicated: boolean }> {
    const connection = options.connection ?? this.redis;
    const byVoucher = groupByVoucher(orders);
    // One WAIT per master (a WAIT holds up its node's connection until the replicas answer): on one
    // server all sales together; on a Cluster the sales of each master of the slot map together.
    const groups = connection.isCluster ? byMaster(connection, [...byVoucher.keys()]) : [[...byVoucher.keys()]];
    const claimedIds = new Set<string>();
    const acknowledged = await Promise.all(
      groups.map(async (voucherIds) => {
        const pipeline = connection.pipeline();
        for (const voucherId of voucherIds) {
          const ids = byVoucher.get(voucherId)!.map((order) => order.streamId);
          pipeline.xclaim(
            orderStreamKeys(voucherId).orders,
            ORDER_CONSUMER_GROUP,
            options.consumer,
            0,
            ...ids,
            'JUSTID',
          );
        }
        pipeline.wait(options.replicas, options.timeoutMs);
        const replies = (await pipeline.exec()) ?? [];
        replies.slice(0, -1).forEach(([error, ids]) => {
          // NOGROUP: the stream (or its group) is gone on this master, so none of its entries is claimable.
          if (error && !error.message.startsWith('NOGROUP')) {
            throw error;
          }
          for (const id of (ids as string[] | null) ?? []) {
            claimedIds.add(id);
          }
        });
        const [waitError, count] = replies[replies.length - 1] ?? [new Error('no WAIT reply')];
        if (waitError) {
          throw waitError;
        }
        return count as number;
      }),
    );
    return {
      claimed: orders.filter((order) => claimedIds.has(order.streamId)),
      replicated: acknowledged.every((count) => count >= options.replicas),
    };
  }

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

  /** The orders are committed in MySQL: XACK, forget them as pending, count them settled. */
  async settle(voucherId: string, orders: Pick<StreamOrder, 'streamId' | 'orderId'>[]): Promise<number> {
    if (orders.length === 0) {
      return 0;
    }
    const keys = orderStreamKeys(voucherId);
    return settleScript.run<number>(
      this.redis,
      [keys.state, keys.orders, keys.pending],
      [
        ORDER_CONSUMER_GROUP,
        orders.length,
        ...orders.map((order) => order.streamId),
        ...orders.map((order) => order.orderId),
      ],
    );
  }

  /** Acknowledges entries that carry no order; nothing was reserved for them that could be known. */
  async discard(voucherId: string, streamIds: string[]): Promise<void> {
    if (streamIds.length > 0) {
      await this.redis.xack(orderStreamKeys(voucherId).orders, ORDER_CONSUMER_GROUP, ...streamIds);
    }
  }

  /** Counts one failed persistence attempt caused by this entry; returns the count so far. */
  async recordAttempt(voucherId: string, orderId: string): Promise<number> {
    const key = orderStreamKeys(voucherId).attempts;
    const [[, attempts]] = (await this.redis
      .multi()
      .hincrby(key, orderId, 1)
      .pexpire(key, KEEP_AFTER_END_MS)
      .exec()) as [[null, number], [null, number]];
    return attempts;
  }

  /** Dead-letters an order and gives its reservation back, exactly once. True if this call did it. */
  async compensate(order: StreamOrder, options: { reason: string; keepBuyer: boolean }): Promise<boolean> {
    const keys = orderStreamKeys(order.voucherId);
    const done = await compensateScript.run<number>(
      this.redis,
      [keys.state, keys.buyers, keys.orders, keys.pending, keys.failed, keys.dead, keys.returned],
      [
        ORDER_CONSUMER_GROUP,
        order.streamId,
        order.orderId,
        order.userId,
        order.voucherId,
        options.reason,
        options.keepBuyer ? '1' : '0',
        RESTOCK_CHANNEL,
        KEEP_AFTER_END_MS,
      ],
    );
    return done === 1;
  }
}

/** The vouchers grouped by their master in `connection`'s slot map (a voucher whose slot is unknown stands alone). */
function byMaster(connection: AppRedis, voucherIds: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const voucherId of voucherIds) {
    const master = masterOf(connection, orderStreamKeys(voucherId).state) ?? `voucher:${voucherId}`;
    groups.set(master, [...(groups.get(master) ?? []), voucherId]);
  }
  return [...groups.values()];
}
