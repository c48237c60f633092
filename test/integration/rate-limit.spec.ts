import { Redis } from 'ioredis';
import type { AppConfig } from '../../src/config/app-config';
import { OrderAdmissionStore } from '../../src/order/async/order-admission.store';
import { RateLimitPolicy } from '../../src/rate-limit/rate-limit.policy';
import { rateBucketKeys } from '../../src/voucher/seckill-keys';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The token buckets (token-bucket.lua) as the two admission scripts check them, on real Redis. */
describe('Rate limits inside the admission scripts (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let state: SeckillStateStore;
  let admission: OrderAdmissionStore;

  const policy = (user: [number, number], address: [number, number] = [0, 1]) =>
    new RateLimitPolicy({
      RATE_LIMIT_USER_PER_SECOND: user[0],
      RATE_LIMIT_USER_BURST: user[1],
      RATE_LIMIT_IP_PER_SECOND: address[0],
      RATE_LIMIT_IP_BURST: address[1],
      TRUSTED_PROXIES: [],
    } as unknown as AppConfig);
  const publish = (voucherId: string, stock: number) =>
    state.publish(voucherId, {
      stock,
      beginTime: new Date(Date.now() - 3_600_000),
      endTime: new Date(Date.now() + 3_600_000),
    });

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    state = new SeckillStateStore(redis);
    admission = new OrderAdmissionStore(redis);
  });
  beforeEach(() => redis.flushall());
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('sync: lets a burst through, refuses the rest with when to retry (nothing reserved), refills at the rate', async () => {
    await publish('1', 100);
    // 2/s: slow enough that a loaded machine's scheduling delay (up to 250 ms) changes no answer.
    const limits = policy([2, 5]);
    const reserve = (userId: string) =>
      state.reserve('1', userId, limits.forRequest({ voucherId: '1', userId, clientAddress: '203.0.113.9' }));
    const burst = await Promise.all(Array.from({ length: 8 }, () => reserve('42')));
    expect(burst.map((result) => result.admission)).toEqual([
      ...Array(5).fill('reserved'),
      ...Array(3).fill('rate-limited'),
    ]);
    for (const refused of burst.slice(5)) {
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
    }
    // Only admitted requests reserved a unit (the buyer is recorded on confirm, so these all reserved).
    expect(await redis.hget('seckill:{1}', 'stock')).toBe('95');
    await sleep(1250); // 2/s: two tokens back (and a half); the third at 1,500 ms
    const later = await Promise.all(Array.from({ length: 4 }, () => reserve('42')));
    expect(later.map((result) => result.admission)).toEqual(['reserved', 'reserved', 'rate-limited', 'rate-limited']);
    // Another user has a bucket of its own; a bucket lives only as long as a refill takes (+1 s).
    expect((await reserve('43')).admission).toBe('reserved');
    const [userBucket] = rateBucketKeys('1', '42', '203.0.113.9');
    expect(await redis.pttl(userBucket)).toBeGreaterThan(0);
    expect(await redis.pttl(userBucket)).toBeLessThanOrEqual(3500);
  });

  it('sync: limits one client address across users, and does nothing when the limits are off', async () => {
    await publish('2', 100);
    const limits = policy([0, 1], [1, 3]);
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      const userId = String(100 + i);
      outcomes.push(
        (await state.reserve('2', userId, limits.forRequest({ voucherId: '2', userId, clientAddress: '198.51.100.7' })))
          .admission,
      );
    }
    expect(outcomes).toEqual(['reserved', 'reserved', 'reserved', 'rate-limited', 'rate-limited']);
    const other = limits.forRequest({ voucherId: '2', userId: '200', clientAddress: '198.51.100.8' });
    expect((await state.reserve('2', '200', other)).admission).toBe('reserved');
    expect(policy([0, 1]).forRequest({ voucherId: '2', userId: '1' })).toBeUndefined();
    expect((await redis.keys('seckill:{2}:rate:user:*')).length).toBe(0);
  });

  it('takes a token from both buckets or from neither: a refusal by one spends nothing of the other', async () => {
    await publish('6', 100);
    const limits = policy([1, 2], [1, 1]);
    const reserve = async (userId: string, clientAddress: string) =>
      (await state.reserve('6', userId, limits.forRequest({ voucherId: '6', userId, clientAddress }))).admission;
    expect(await reserve('1', '198.51.100.1')).toBe('reserved'); // user 1 left, address .1 empty
    expect(await reserve('1', '198.51.100.1')).toBe('rate-limited'); // refused by the address only
    expect(await reserve('1', '198.51.100.2')).toBe('reserved'); // so the user's second token is still there
    expect(await reserve('1', '198.51.100.3')).toBe('rate-limited'); // now the user is out
    expect(await reserve('2', '198.51.100.3')).toBe('reserved'); // and .3 lost nothing to user 1
  });

  it('async: checks each request of a batch against its buckets first, then decides the rest in order', async () => {
    await publish('3', 100);
    const limits = policy([1, 3]);
    const requests = (voucherId: string) =>
      Array.from({ length: 6 }, (_, n) => ({
        userId: n < 5 ? '7' : '8',
        orderId: String(900 + n),
        buckets: limits.forRequest({ voucherId, userId: n < 5 ? '7' : '8', clientAddress: '203.0.113.1' })!.keys,
      }));
    const { admissions } = await admission.admitBatch({
      voucherId: '3',
      maxBacklog: 1000,
      requests: requests('3'),
      rates: limits.rates,
    });
    expect(admissions.map((outcome) => outcome.admission)).toEqual([
      'accepted',
      'already-bought',
      'already-bought',
      'rate-limited',
      'rate-limited',
      'accepted',
    ]);
    expect(admissions[3].retryAfterMs).toBeGreaterThan(0);
    expect(admissions[0].retryAfterMs).toBe(0);
    expect(await redis.xlen('seckill:{3}:orders')).toBe(2);
    // Refused requests are refused whatever the sale's state: here, not yet published.
    const unpublished = await admission.admitBatch({
      voucherId: '4',
      maxBacklog: 1000,
      requests: requests('4'),
      rates: limits.rates,
    });
    expect(unpublished.admissions.map((outcome) => outcome.admission)).toEqual([
      'unpublished',
      'unpublished',
      'unpublished',
      'rate-limited',
      'rate-limited',
      'unpublished',
    ]);
  });

  it('never writes a bucket to the AOF: a sold-out answer costs no fsync for its rate limit', async () => {
    const durable = await startTestRedis('redis-aof', { durable: true });
    const client = new Redis(durable.url);
    try {
      const store = new SeckillStateStore(client);
      await store.publish('5', {
        stock: 0,
        beginTime: new Date(Date.now() - 60_000),
        endTime: new Date(Date.now() + 60_000),
      });
      const aofSize = async () => Number(/aof_current_size:(\d+)/.exec(await client.info('persistence'))?.[1]);
      const before = await aofSize();
      const limits = policy([10, 5]);
      for (let i = 0; i < 20; i++) {
        const outcome = await store.reserve('5', String(i), limits.forRequest({ voucherId: '5', userId: String(i) }));
        expect(outcome.admission).toBe('sold-out');
      }
      expect(await aofSize()).toBe(before);
      // The buckets exist all the same.
      expect((await client.keys('seckill:{5}:rate:user:*')).length).toBe(20);
    } finally {
      client.disconnect();
      await durable.stop();
    }
  });

  it('keeps every bucket in its sale’s hash slot', () => {
    for (const key of rateBucketKeys('42', '7', '2001:db8::1')) {
      expect(/\{(.+?)\}/.exec(key)?.[1]).toBe('42');
    }
  });
});
