import { Redis } from 'ioredis';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

describe('SeckillStateStore scripts (seckill-reserve.lua, seckill-confirm.lua) on real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: SeckillStateStore;
  const now = Date.now();
  const sale = { stock: 2, beginTime: new Date(now - 1000), endTime: new Date(now + 60_000) };

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

  it('keeps one voucher’s keys under one hash tag', () => {
    expect(SeckillStateStore.keys('42')).toEqual(['seckill:{42}', 'seckill:{42}:buyers']);
  });

  it('answers unpublished for a missing or partial state', async () => {
    expect((await store.reserve('1', '7')).admission).toBe('unpublished');
    await redis.hset('seckill:{1}', 'stock', 0); // only a stock field
    expect((await store.reserve('1', '7')).admission).toBe('unpublished');
  });

  it('never creates a partial state without a TTL when correcting a missing one', async () => {
    await store.release('1');
    expect(await store.markSoldOut('1', 0)).toBe(false);
    expect(await redis.exists('seckill:{1}')).toBe(0);
  });

  it('marks a sale sold out only if no unit came back since the caller counted the returns', async () => {
    await store.publish('1', sale);
    // A replica counts the returns, then reads MySQL (stock 0); meanwhile an order is cancelled:
    // MySQL's stock first, then its unit back in Redis.
    const counted = await store.returnedCount('1');
    expect(await store.returnUnits('1', [{ orderId: '501', userId: '7' }])).toBe(1);
    expect(await store.stock('1')).toBe(3);
    // The late mark must not take the returned unit away (an unconditional 0 would).
    expect(await store.markSoldOut('1', counted)).toBe(false);
    expect(await store.stock('1')).toBe(3);
    // Counted after the return, the mark applies.
    expect(await store.markSoldOut('1', await store.returnedCount('1'))).toBe(true);
    expect(await store.stock('1')).toBe(0);
  });

  it('checks the window against Redis TIME, whatever the caller’s clock says', async () => {
    const [seconds] = await redis.time();
    const serverNow = Number(seconds) * 1000;
    await store.publish('1', {
      ...sale,
      beginTime: new Date(serverNow + 60_000),
      endTime: new Date(serverNow + 120_000),
    });
    expect((await store.reserve('1', '7')).admission).toBe('not-started');
    await store.publish('2', {
      ...sale,
      beginTime: new Date(serverNow - 120_000),
      endTime: new Date(serverNow - 60_000),
    });
    expect((await store.reserve('2', '7')).admission).toBe('ended');
    expect(await store.stock('1')).toBe(2);
  });

  it('reserves one unit per admission until none is left, and never goes below zero', async () => {
    await store.publish('1', sale);
    expect(await store.reserve('1', '7')).toEqual({
      admission: 'reserved',
      endMs: sale.endTime.getTime(),
      retryAfterMs: 0,
    });
    expect((await store.reserve('1', '8')).admission).toBe('reserved');
    expect((await store.reserve('1', '9')).admission).toBe('sold-out');
    expect(await store.stock('1')).toBe(0);
  });

  it('remembers confirmed buyers and gives released units back', async () => {
    await store.publish('1', sale);
    await store.reserve('1', '7');
    await store.confirm('1', ['7'], sale.endTime.getTime());
    expect((await store.reserve('1', '7')).admission).toBe('already-bought');
    await store.reserve('1', '8');
    await store.release('1');
    expect(await store.stock('1')).toBe(1);
    expect(await redis.pttl('seckill:{1}:buyers')).toBeGreaterThan(60_000);
  });

  it('decides a batch of requests in order, as if one after another, in one call', async () => {
    await store.publish('1', { ...sale, stock: 3 });
    await store.confirm('1', ['5', '6'], sale.endTime.getTime());
    const batch = await store.reserveBatch({
      voucherId: '1',
      requests: ['7', '5', '8', '9', '10'].map((userId) => ({ userId })),
    });
    expect(batch.endMs).toBe(sale.endTime.getTime());
    expect(batch.admissions.map((a) => a.admission)).toEqual([
      'reserved',
      'already-bought',
      'reserved',
      'reserved',
      'sold-out',
    ]);
    expect(await store.stock('1')).toBe(0);
    // The buyers confirmed by one call are all remembered.
    expect(await redis.smembers('seckill:{1}:buyers')).toEqual(expect.arrayContaining(['5', '6']));
  });

  it('answers a whole batch alike when the sale is not open, and each request its own rate limit', async () => {
    const batch = await store.reserveBatch({ voucherId: '3', requests: [{ userId: '1' }, { userId: '2' }] });
    expect(batch.admissions.map((a) => a.admission)).toEqual(['unpublished', 'unpublished']);
    await store.publish('3', sale);
    const bucket = (userId: string) => [`seckill:{3}:rate:user:${userId}`, 'seckill:{3}:rate:addr:x'] as const;
    // One token per user, two for the shared address: the third request is limited by its address.
    const limited = await store.reserveBatch({
      voucherId: '3',
      requests: ['1', '1', '2', '3'].map((userId) => ({ userId, buckets: bucket(userId) })),
      rates: [1, 1, 1, 2],
    });
    expect(limited.admissions.map((a) => a.admission)).toEqual([
      'reserved',
      'rate-limited',
      'reserved',
      'rate-limited',
    ]);
    expect(limited.admissions[1].retryAfterMs).toBeGreaterThan(0);
    expect(await store.stock('3')).toBe(0);
  });

  it('expires the state a day after the sale ends', async () => {
    await store.publish('1', sale);
    const ttl = await redis.pttl('seckill:{1}');
    expect(ttl).toBeGreaterThan(24 * 3600 * 1000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600 * 1000 + 60_000);
  });
});
