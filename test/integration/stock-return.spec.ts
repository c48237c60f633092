import { Redis } from 'ioredis';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import { seckillKeys } from '../../src/voucher/seckill-keys';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

/** seckill-return.lua (through its wrapper): each order's unit comes back to Redis once. */
describe('SeckillStateStore.returnUnits (seckill-return.lua) on real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: SeckillStateStore;
  const keys = seckillKeys('9');
  const sale = { stock: 0, beginTime: new Date(Date.now() - 1000), endTime: new Date(Date.now() + 60_000) };

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    store = new SeckillStateStore(redis);
  });
  beforeEach(() => redis.flushall());
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('gives each order’s unit back once, frees its buyer and tells the replicas', async () => {
    await store.publish('9', sale);
    await redis.sadd(keys.buyers, '1', '2');
    const listener = new Redis(server.url);
    const heard: string[] = [];
    await listener.subscribe('seckill:restock');
    listener.on('message', (_channel, voucherId: string) => heard.push(voucherId));
    try {
      const units = [
        { orderId: '100', userId: '1' },
        { orderId: '101', userId: '2' },
      ];
      expect(await store.returnUnits('9', units)).toBe(2);
      // Relayed again (the sweep and the replica that cancelled, or two sweeps): nothing changes.
      expect(await store.returnUnits('9', units)).toBe(0);
      expect(await store.returnUnits('9', [units[0], { orderId: '102', userId: '3' }])).toBe(1);
      expect(await redis.hget(keys.state, 'stock')).toBe('3');
      expect(await redis.smembers(keys.buyers)).toEqual([]);
      expect((await redis.smembers(keys.returned)).sort()).toEqual(['100', '101', '102']);
      expect(await redis.pttl(keys.returned)).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual(['9', '9']);
    } finally {
      listener.disconnect();
    }
  });

  it('does nothing, and records nothing, while the sale has no state (the outbox row waits)', async () => {
    expect(await store.returnUnits('9', [{ orderId: '100', userId: '1' }])).toBe(-1);
    expect(await redis.exists(keys.returned, keys.state)).toBe(0);
    // A rebuild marks the returns its MySQL snapshot holds; their relay then adds nothing.
    await store.markReturned('9', ['100']);
    await store.publish('9', { ...sale, stock: 1 });
    expect(await store.returnUnits('9', [{ orderId: '100', userId: '1' }])).toBe(0);
    expect(await redis.hget(keys.state, 'stock')).toBe('1');
  });
});
