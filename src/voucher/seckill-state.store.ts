import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/redis-script';
import { REDIS_CLIENT } from '../redis/redis.tokens';

const reserveScript = RedisScript.fromFile(__dirname, 'seckill-reserve.lua', 2);
const confirmScript = RedisScript.fromFile(__dirname, 'seckill-confirm.lua', 1);

/** Outcome of `reserve`, in the order the checks run. */
export type Admission = 'unpublished' | 'not-started' | 'ended' | 'sold-out' | 'already-bought' | 'reserved';
const ADMISSIONS: Admission[] = ['unpublished', 'not-started', 'ended', 'sold-out', 'already-bought', 'reserved'];

/** Keys are kept a day past the sale's end, then Redis drops them. */
const KEEP_AFTER_END_MS = 24 * 3600 * 1000;

/**
 * The Redis copy of each seckill voucher's sale state (`seckill:{id}` hash: stock, begin, end) and
 * its buyers (`seckill:{id}:buyers`). It is admission control in front of MySQL: a request that
 * gets a reserved unit goes on to the locked MySQL transaction, everything else is answered here.
 * MySQL stays authoritative (its conditional UPDATE decides); this copy may only err towards
 * letting a request through, never towards selling more than MySQL has.
 */
@Injectable()
export class SeckillStateStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  static keys(voucherId: string): [string, string] {
    return [`seckill:{${voucherId}}`, `seckill:{${voucherId}}:buyers`];
  }

  /** Checks window, stock and buyer; on success one unit is reserved (confirm or release it). */
  async reserve(voucherId: string, userId: string, nowMs: number): Promise<{ admission: Admission; endMs: number }> {
    const [code, endMs] = await reserveScript.run<[number, string | number]>(
      this.redis,
      SeckillStateStore.keys(voucherId),
      [userId, nowMs],
    );
    return { admission: ADMISSIONS[code], endMs: Number(endMs) };
  }

  /** The order committed: remember the buyer. */
  async confirm(voucherId: string, userId: string, endMs: number): Promise<void> {
    await confirmScript.run(this.redis, [SeckillStateStore.keys(voucherId)[1]], [userId, endMs + KEEP_AFTER_END_MS]);
  }

  /** The order did not happen (rejected or failed): give the reserved unit back. */
  async release(voucherId: string): Promise<void> {
    await this.redis.hincrby(SeckillStateStore.keys(voucherId)[0], 'stock', 1);
  }

  /** Publishes (or repairs) the state from MySQL's values. */
  async publish(voucherId: string, sale: { stock: number; beginTime: Date; endTime: Date }): Promise<void> {
    const [stateKey, buyersKey] = SeckillStateStore.keys(voucherId);
    const expireAt = sale.endTime.getTime() + KEEP_AFTER_END_MS;
    await this.redis
      .multi()
      .hset(stateKey, { stock: sale.stock, begin: sale.beginTime.getTime(), end: sale.endTime.getTime() })
      .pexpireat(stateKey, expireAt)
      .pexpireat(buyersKey, expireAt)
      .exec();
  }

  async markSoldOut(voucherId: string): Promise<void> {
    await this.redis.hset(SeckillStateStore.keys(voucherId)[0], 'stock', 0);
  }

  async stock(voucherId: string): Promise<number | null> {
    const value = await this.redis.hget(SeckillStateStore.keys(voucherId)[0], 'stock');
    return value === null ? null : Number(value);
  }
}
