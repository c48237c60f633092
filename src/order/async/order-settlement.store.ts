import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { RedisScript } from '../../redis/redis-script';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { KEEP_AFTER_END_MS, RESTOCK_CHANNEL } from '../../voucher/seckill-keys';
import type { StreamOrder } from './order-stream.entries';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';
import { SECKILL_COMPENSATE_LUA } from './seckill-compensate.lua';
import { SECKILL_SETTLE_LUA } from './seckill-settle.lua';

const settleScript = RedisScript.of('seckill-settle.lua', SECKILL_SETTLE_LUA, 3);
const compensateScript = RedisScript.of('seckill-compensate.lua', SECKILL_COMPENSATE_LUA, 7);

/**
 * How a stream entry leaves the pending list once `OrderPersister` is done with it: settled after its
 * COMMIT (`seckill-settle.lua`), discarded when it carries no order, or dead-lettered with its unit
 * given back (`seckill-compensate.lua`) after the failed attempts counted here. Each script's one caller.
 */
@Injectable()
export class OrderSettlementStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

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
