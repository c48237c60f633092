import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AppRedis } from '../redis/redis-connections';
import { redisNowMs } from '../redis/redis-clock';
import { RedisScript, writtenAtOnce } from '../redis/redis-script';
import type { LockScriptClient } from '@seckill/lock/lua';
import { ADMISSION_BATCH_LUA } from './admission-batch.lua';
import type { RateLimitArgs } from '../rate-limit/rate-limit.policy';
import { REDIS_CLIENT } from '../redis/redis.tokens';
import { RESERVE_ADMISSIONS, type AdmissionOutcome } from './admission';
import { SECKILL_CONFIRM_LUA } from './seckill-confirm.lua';
import { SECKILL_PUBLISH_LUA } from './seckill-publish.lua';
import { SECKILL_RESERVE_LUA } from './seckill-reserve.lua';
import { SECKILL_RETURN_LUA } from './seckill-return.lua';
import { SECKILL_STOCK_LUA } from './seckill-stock.lua';
import { KEEP_AFTER_END_MS, RESTOCK_CHANNEL, seckillKeys } from './seckill-keys';
import { SALE_PUBLISH_HOOK, type SalePublishHook } from './sale-publish.hook';

const reserveScript = RedisScript.withPrelude(ADMISSION_BATCH_LUA, {
  name: 'seckill-reserve.lua',
  source: SECKILL_RESERVE_LUA,
  keys: [2, 2002],
});
/** The reserve script's rate arguments when no limit applies. */
const NO_LIMITS = [0, 1, 0, 1] as const;
const confirmScript = RedisScript.of('seckill-confirm.lua', SECKILL_CONFIRM_LUA, 1);
const stockScript = RedisScript.of('seckill-stock.lua', SECKILL_STOCK_LUA, 2);
const publishScript = RedisScript.of('seckill-publish.lua', SECKILL_PUBLISH_LUA, 2);
const returnScript = RedisScript.of('seckill-return.lua', SECKILL_RETURN_LUA, 3);

/** A unit to give back to a sale: the order that held it and its buyer. */
export interface ReturnedUnit {
  orderId: string;
  userId: string;
}

/**
 * The Redis copy of each seckill voucher's sale state (`seckill:{id}` hash: stock, begin, end) and
 * its buyers (`seckill:{id}:buyers`). It is admission control in front of MySQL: a request that
 * gets a reserved unit goes on to the locked MySQL transaction, everything else is answered here.
 * MySQL stays authoritative (its conditional UPDATE decides); this copy may only err towards
 * letting a request through, never towards selling more than MySQL has.
 */
@Injectable()
export class SeckillStateStore {
  /** The connection's EVALSHA written at once, for calls batched by their callers already (see `writtenAtOnce`). */
  private readonly batchClient: LockScriptClient;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
    @Optional() @Inject(SALE_PUBLISH_HOOK) private readonly publishHook?: SalePublishHook,
  ) {
    this.batchClient = writtenAtOnce(redis);
  }

  static keys(voucherId: string): [string, string] {
    return [`seckill:{${voucherId}}`, `seckill:{${voucherId}}:buyers`];
  }

  /**
   * Checks the request's rate limits (if given), the window (Redis TIME), stock and buyer; on
   * success one unit is reserved (confirm or release it). One round trip (a batch of one).
   */
  async reserve(voucherId: string, userId: string, limits?: RateLimitArgs): Promise<AdmissionOutcome> {
    const { admissions, endMs } = await this.reserveBatch({
      voucherId,
      requests: [{ userId, buckets: limits?.keys }],
      rates: limits?.args,
    });
    return { ...admissions[0], endMs };
  }

  /**
   * `reserve` for several requests of one voucher in one round trip, decided in the given order (as
   * if one after another): one outcome per request. With `rates`, every request carries its
   * rate-limit buckets and is checked against them first.
   */
  async reserveBatch(options: {
    voucherId: string;
    requests: readonly { userId: string; buckets?: readonly [string, string] }[];
    rates?: RateLimitArgs['args'];
  }): Promise<{ admissions: Omit<AdmissionOutcome, 'endMs'>[]; endMs: number }> {
    const keys: string[] = SeckillStateStore.keys(options.voucherId);
    const args: (string | number)[] = [...(options.rates ?? NO_LIMITS)];
    for (const request of options.requests) {
      args.push(request.userId);
      if (options.rates) {
        keys.push(...request.buckets!);
      }
    }
    const [endMs, ...outcomes] = await reserveScript.run<number[]>(this.batchClient, keys, args);
    const admissions: Omit<AdmissionOutcome, 'endMs'>[] = [];
    for (let i = 0; i < outcomes.length; i += 2) {
      admissions.push({ admission: RESERVE_ADMISSIONS[outcomes[i]], retryAfterMs: outcomes[i + 1] });
    }
    return { admissions, endMs: Number(endMs) };
  }

  /** Orders committed: remember their buyers (one round trip for a batch). */
  async confirm(voucherId: string, userIds: readonly string[], endMs: number): Promise<void> {
    if (userIds.length > 0) {
      await confirmScript.run(
        this.batchClient,
        [SeckillStateStore.keys(voucherId)[1]],
        [endMs + KEEP_AFTER_END_MS, ...userIds],
      );
    }
  }

  /** The order did not happen (rejected or failed): give the reserved unit back. */
  async release(voucherId: string): Promise<void> {
    const keys = seckillKeys(voucherId);
    await stockScript.run(this.redis, [keys.state, keys.returned], ['release', 0]);
  }

  /** Redis' clock (ms) that decides for this sale: the one its scripts read (its master's, on a Cluster). */
  now(voucherId: string): Promise<number> {
    return redisNowMs(this.redis, seckillKeys(voucherId).state);
  }

  /**
   * Publishes the state from MySQL's values, after the `SalePublishHook` if one is registered (async
   * mode: the orders stream). `overwrite` repairs an existing state (the sync reconciler); otherwise an
   * existing state is left alone. Returns whether it was written.
   */
  async publish(
    voucherId: string,
    sale: { stock: number; beginTime: Date; endTime: Date },
    options: { overwrite?: boolean } = {},
  ): Promise<boolean> {
    const keys = seckillKeys(voucherId);
    const expireAt = sale.endTime.getTime() + KEEP_AFTER_END_MS;
    await this.publishHook?.beforePublish(voucherId, expireAt);
    const written = await publishScript.run<number>(
      this.redis,
      [keys.state, keys.buyers],
      [sale.stock, sale.beginTime.getTime(), sale.endTime.getTime(), expireAt, options.overwrite ? '0' : '1'],
    );
    return written === 1;
  }

  /** True if the sale's state hash is in Redis (complete). */
  async isPublished(voucherId: string): Promise<boolean> {
    const fields = await this.redis.hmget(seckillKeys(voucherId).state, 'stock', 'begin', 'end');
    return fields.every((field) => field !== null);
  }

  /**
   * Gives these orders' units back to the sale (stock + 1 each, the buyer may buy again, every
   * replica's sold-out memory cleared), each order at most once whatever how often it is called.
   * Returns how many were given back by this call, or -1 (nothing done) when the sale has no state.
   */
  async returnUnits(voucherId: string, units: ReturnedUnit[]): Promise<number> {
    if (units.length === 0) {
      return 0;
    }
    const keys = seckillKeys(voucherId);
    const args: (string | number)[] = [RESTOCK_CHANNEL, voucherId, KEEP_AFTER_END_MS];
    for (const unit of units) {
      args.push(unit.orderId, unit.userId);
    }
    return returnScript.run<number>(this.redis, [keys.state, keys.buyers, keys.returned], args);
  }

  /** Marks orders as given back without touching stock: their units are in a state rebuilt from MySQL. */
  async markReturned(voucherId: string, orderIds: string[]): Promise<void> {
    const key = seckillKeys(voucherId).returned;
    for (let i = 0; i < orderIds.length; i += 5000) {
      await this.redis.sadd(key, ...orderIds.slice(i, i + 5000));
    }
  }

  /** How many orders' units this sale got back in Redis. */
  async returnedCount(voucherId: string): Promise<number> {
    return this.redis.scard(seckillKeys(voucherId).returned);
  }

  /**
   * Stock 0 in Redis (MySQL had none left), unless a unit came back since the returned set held
   * `returnedBefore` orders (`returnedCount`, read before MySQL's stock). True if marked.
   */
  async markSoldOut(voucherId: string, returnedBefore: number): Promise<boolean> {
    const keys = seckillKeys(voucherId);
    return (await stockScript.run<number>(this.redis, [keys.state, keys.returned], ['sold-out', returnedBefore])) === 1;
  }

  /** The sale's Redis state for operators: stock and counters as stored, and how many buyers. */
  async snapshot(voucherId: string): Promise<{ state: Record<string, string>; buyers: number }> {
    const keys = seckillKeys(voucherId);
    const [state, buyers] = await Promise.all([this.redis.hgetall(keys.state), this.redis.scard(keys.buyers)]);
    return { state, buyers };
  }

  async stock(voucherId: string): Promise<number | null> {
    const value = await this.redis.hget(SeckillStateStore.keys(voucherId)[0], 'stock');
    return value === null ? null : Number(value);
  }
}
