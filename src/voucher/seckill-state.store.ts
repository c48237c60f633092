import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/redis-script';
import { REDIS_CLIENT } from '../redis/redis.tokens';

const precheckScript = RedisScript.fromFile(__dirname, 'seckill-precheck.lua', 2);
const recordSaleScript = RedisScript.fromFile(__dirname, 'seckill-record-sale.lua', 2);

/** What the order path needs to know before it takes a lock or touches MySQL. */
export interface SaleState {
  stock: number;
  beginMs: number;
  endMs: number;
  alreadyBought: boolean;
}

/** Keys are kept a day past the sale's end, then Redis drops them. */
const KEEP_AFTER_END_MS = 24 * 3600 * 1000;

/**
 * The Redis copy of each seckill voucher's sale state (`seckill:{id}` hash: stock, begin, end) and
 * its buyers (`seckill:{id}:buyers`). In the synchronous order path MySQL stays authoritative: this
 * copy only lets sold-out, out-of-window and repeat requests be answered without MySQL, and it only
 * errs on the side of sending a request on to MySQL.
 */
@Injectable()
export class SeckillStateStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  static keys(voucherId: string): [string, string] {
    return [`seckill:{${voucherId}}`, `seckill:{${voucherId}}:buyers`];
  }

  /** Sale state plus whether `userId` already bought; null when not published (or lost). */
  async read(voucherId: string, userId: string): Promise<SaleState | null> {
    const reply = await precheckScript.run<[0] | [1, number, string, string, number]>(
      this.redis,
      SeckillStateStore.keys(voucherId),
      [userId],
    );
    if (reply[0] === 0) {
      return null;
    }
    return { stock: reply[1], beginMs: Number(reply[2]), endMs: Number(reply[3]), alreadyBought: reply[4] === 1 };
  }

  /** Publishes (or repairs) the state from MySQL's values. */
  async publish(voucherId: string, sale: { stock: number; beginTime: Date; endTime: Date }): Promise<void> {
    const [stateKey, buyersKey] = SeckillStateStore.keys(voucherId);
    const expireAt = sale.endTime.getTime() + KEEP_AFTER_END_MS;
    await this.redis
      .multi()
      .hset(stateKey, { stock: sale.stock, begin: sale.beginTime.getTime(), end: sale.endTime.getTime() })
      .pexpireat(stateKey, expireAt)
      .exec();
    // The buyers set may not exist yet; it gets its expiry when the first buyer is added.
    await this.redis.pexpireat(buyersKey, expireAt);
  }

  async recordSale(voucherId: string, userId: string, endMs: number): Promise<void> {
    await recordSaleScript.run(this.redis, SeckillStateStore.keys(voucherId), [userId, endMs + KEEP_AFTER_END_MS]);
  }

  async markSoldOut(voucherId: string): Promise<void> {
    await this.redis.hset(SeckillStateStore.keys(voucherId)[0], 'stock', 0);
  }

  async stock(voucherId: string): Promise<number | null> {
    const value = await this.redis.hget(SeckillStateStore.keys(voucherId)[0], 'stock');
    return value === null ? null : Number(value);
  }
}
