import { Redis } from 'ioredis';
import { rateLimitKey, RateLimitStore } from '../../src/rate-limit/rate-limit.store';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Token bucket (token-bucket.lua) on real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: RateLimitStore;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    store = new RateLimitStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('lets a burst through, then refuses with when to retry, then refills at the rate', async () => {
    const key = rateLimitKey('user', '42');
    const take = () => store.take({ key, ratePerSecond: 10, burst: 5 });
    const burst = await Promise.all(Array.from({ length: 8 }, take));
    expect(burst.map((result) => result.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    for (const refused of burst.slice(5)) {
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
    }
    await sleep(250); // 10/s: two tokens back (and a half)
    const later = await Promise.all(Array.from({ length: 4 }, take));
    expect(later.map((result) => result.allowed)).toEqual([true, true, false, false]);
    // The bucket's key lives only as long as a refill takes (+1 s).
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(1500);
  });

  it('keeps each key its own bucket, in its own hash slot', async () => {
    const a = rateLimitKey('ip', '203.0.113.9');
    const b = rateLimitKey('user', '203.0.113.9');
    expect(a).toBe('ratelimit:{ip:203.0.113.9}');
    expect((await store.take({ key: a, ratePerSecond: 1, burst: 1 })).allowed).toBe(true);
    expect((await store.take({ key: a, ratePerSecond: 1, burst: 1 })).allowed).toBe(false);
    expect((await store.take({ key: b, ratePerSecond: 1, burst: 1 })).allowed).toBe(true);
  });

  it('refuses to run with a rate or burst that would write a broken bucket', async () => {
    const key = rateLimitKey('user', 'bad');
    await expect(store.take({ key, ratePerSecond: 0, burst: 5 })).rejects.toThrow(/rate > 0/);
    await expect(store.take({ key, ratePerSecond: 5, burst: 0 })).rejects.toThrow(/burst >= 1/);
    expect(await redis.exists(key)).toBe(0);
  });
});
