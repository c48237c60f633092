import { AsyncLocalStorage } from 'node:async_hooks';
import { Redis } from 'ioredis';
import type { AppConfig } from '../../src/config/app-config';
import { AdmissionBatcher } from '../../src/order/async/admission-batcher';
import { OrderStreamMetrics } from '../../src/order/async/order-stream.metrics';
import { OrderAdmissionStore } from '../../src/order/async/order-admission.store';
import { MetricsService } from '../../src/metrics/metrics.service';
import { RateLimitPolicy } from '../../src/rate-limit/rate-limit.policy';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

/** Admission script calls the server has run so far (INFO commandstats). */
const scriptCalls = async (redis: Redis) => {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
};

describe('AdmissionBatcher on real Redis: one script call per voucher per event-loop turn', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: OrderAdmissionStore;
  let state: SeckillStateStore;
  const metrics = new OrderStreamMetrics(new MetricsService());

  const batcher = (max: number, admissionStore = store) =>
    new AdmissionBatcher(
      { ORDER_ADMISSION_BATCH_MAX: max, ORDER_MAX_BACKLOG: 100_000 } as AppConfig,
      admissionStore,
      metrics,
      new RateLimitPolicy({
        RATE_LIMIT_USER_PER_SECOND: 0,
        RATE_LIMIT_IP_PER_SECOND: 0,
        TRUSTED_PROXIES: [],
      } as unknown as AppConfig),
    );
  const publish = async (voucherId: string, stock: number) => {
    const now = Date.now();
    await state.publish(voucherId, {
      stock,
      beginTime: new Date(now - 3_600_000),
      endTime: new Date(now + 3_600_000),
    });
  };

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    store = new OrderAdmissionStore(redis);
    state = new SeckillStateStore(redis);
    // Loads the script (a first EVALSHA fails with NOSCRIPT and is retried as EVAL: two calls).
    await store.admit({ voucherId: '0', userId: '0', orderId: '1', maxBacklog: 1 });
  });
  beforeEach(async () => {
    await redis.flushall();
    await redis.config('RESETSTAT');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('decides the requests of one turn with one call per voucher, each request its own outcome', async () => {
    await publish('1', 30);
    await publish('2', 5);
    const admissions = batcher(1000);
    const before = await scriptCalls(redis);
    const first = Array.from({ length: 50 }, (_, i) =>
      admissions.admit({ voucherId: '1', userId: String(i), orderId: String(1000 + i) }),
    );
    const second = Array.from({ length: 10 }, (_, i) =>
      admissions.admit({ voucherId: '2', userId: String(i % 8), orderId: String(2000 + i) }),
    );
    const [one, two] = [
      (await Promise.all(first)).map((outcome) => outcome.admission),
      (await Promise.all(second)).map((outcome) => outcome.admission),
    ];
    expect(await scriptCalls(redis)).toBe(before + 2);
    expect(one).toEqual([...Array(30).fill('accepted'), ...Array(20).fill('sold-out')]);
    // Users 0 and 1 asked twice: their second requests come after the stock is gone.
    expect(two).toEqual([...Array(5).fill('accepted'), ...Array(5).fill('sold-out')]);
    expect(await redis.xlen('seckill:{1}:orders')).toBe(30);
    expect(await redis.hget('seckill:{1}', 'stock')).toBe('0');
  });

  it('sends a full batch at once and the rest at the end of the turn', async () => {
    await publish('3', 100);
    const before = await scriptCalls(redis);
    const admissions = batcher(8);
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        admissions.admit({ voucherId: '3', userId: String(i), orderId: String(3000 + i) }),
      ),
    );
    expect(all.map((outcome) => outcome.admission)).toEqual(Array(20).fill('accepted'));
    expect(await scriptCalls(redis)).toBe(before + 3);
  });

  it("runs the call outside the first request's async context", async () => {
    await publish('4', 10);
    const requests = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const watched = new (class extends OrderAdmissionStore {
      override admitBatch(options: Parameters<OrderAdmissionStore['admitBatch']>[0]) {
        seen.push(requests.getStore());
        return super.admitBatch(options);
      }
    })(redis);
    const admissions = batcher(1000, watched);
    const outcome = await requests.run('request-A', () =>
      admissions.admit({ voucherId: '4', userId: '1', orderId: '4001' }),
    );
    expect(outcome.admission).toBe('accepted');
    expect(seen).toEqual([undefined]);
  });

  it('fails every request of a call that fails, and the next turn works again', async () => {
    await publish('5', 10);
    const admissions = batcher(1000);
    const broken = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    // Its connection errors are the point; without a listener ioredis prints them as unhandled.
    broken.on('error', () => undefined);
    const failing = batcher(1000, new OrderAdmissionStore(broken));
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => failing.admit({ voucherId: '5', userId: String(i), orderId: String(5000 + i) })),
    );
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
    broken.disconnect();
    expect((await admissions.admit({ voucherId: '5', userId: '1', orderId: '5001' })).admission).toBe('accepted');
  });
});
