import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { RedisScript } from '../../redis/redis-script';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { KEEP_AFTER_END_MS } from '../../voucher/seckill-keys';
import { orderStreamKeys } from './order-stream.keys';
import { OrderDeliveryStore } from './order-delivery.store';
import { SECKILL_RESTORE_LUA } from './seckill-restore.lua';

const restoreScript = RedisScript.of('seckill-restore.lua', SECKILL_RESTORE_LUA, 5);

/** A sale's live state as the rebuild computed it from MySQL and the surviving stream. */
export interface RestoredSale {
  stock: number;
  beginTime: Date;
  endTime: Date;
  buyers: string[];
  /** Accepted orders not yet acknowledged: the `pending` hash. */
  pending: { orderId: string; userId: string }[];
}

/**
 * The last, atomic step of `SaleRebuilder`: writes a lost sale's state back together with this path's
 * `pending` hash. Here and not in the voucher module because the two must change in one script —
 * an admission between them would be lost — and the pending hash is the asynchronous path's alone.
 */
@Injectable()
export class SaleRestoreStore {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
    private readonly delivery: OrderDeliveryStore,
  ) {}

  /**
   * Buyers and pending orders are staged under temporary keys of the same slot, then
   * `seckill-restore.lua` swaps them in and writes the state hash — whose presence reopens the sale —
   * atomically, unless the state exists by then. Returns whether it restored.
   */
  async restore(voucherId: string, sale: RestoredSale): Promise<boolean> {
    const keys = orderStreamKeys(voucherId);
    // Names of this rebuild's own (same slot): two rebuilds that overlap (a lock lost, an admin's
    // force-unlock) must not stage into, or clear, each other's keys.
    const rebuild = randomUUID();
    const staged = { buyers: `${keys.buyers}:staged:${rebuild}`, pending: `${keys.pending}:staged:${rebuild}` };
    const expireAt = sale.endTime.getTime() + KEEP_AFTER_END_MS;
    await this.delivery.ensureOrdersStream(voucherId, expireAt);
    const chunk = 5000;
    for (let i = 0; i < sale.buyers.length; i += chunk) {
      await this.redis.sadd(staged.buyers, ...sale.buyers.slice(i, i + chunk));
    }
    for (let i = 0; i < sale.pending.length; i += chunk) {
      await this.redis.hset(
        staged.pending,
        Object.fromEntries(sale.pending.slice(i, i + chunk).map((order) => [order.orderId, order.userId])),
      );
    }
    // Staging keys of an abandoned rebuild do not linger.
    await this.redis.pexpire(staged.buyers, 3_600_000);
    await this.redis.pexpire(staged.pending, 3_600_000);
    const restored = await restoreScript.run<number>(
      this.redis,
      [keys.state, keys.buyers, keys.pending, staged.buyers, staged.pending],
      [sale.stock, sale.beginTime.getTime(), sale.endTime.getTime(), sale.pending.length, expireAt],
    );
    return restored === 1;
  }
}
