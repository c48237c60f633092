import type { LocalStack } from '../../scripts/stack/local-stack';
import { SENTINEL_MASTER_NAME } from '../../scripts/stack/redis-sentinel';
import {
  ASYNC_ENV,
  expectDocumentedAnswers,
  orderAsync,
  readOrders,
  readRedisSale,
  runAsyncSale,
  waitForDrain,
} from '../support/async-sale';
import { createSeckillVoucher, readInvariants } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

const STOCK = 1500;
// The fault strikes at the half-way request, while stock is left (sold out only near the end).
const SALE = { users: 1800, requests: 2000, concurrency: 30 };

/**
 * The app behind Redis Sentinel (REDIS_SENTINELS): a master with two replicas and three sentinels,
 * ORDER_DURABILITY=replicas (each admission WAITs for the replica, consumers persist only entries
 * the replica has) and replica-safe lock grants. The master is SIGKILLed mid-sale and not
 * restarted: the sentinels promote the replica, the replicas follow it.
 */
describe('Async sale behind Redis Sentinel: the master SIGKILLed mid-sale, the replica promoted', () => {
  let stack: LocalStack & { url: string };
  beforeAll(async () => {
    stack = await startTestCluster({
      replicas: 3,
      redisSentinel: true,
      env: {
        ...ASYNC_ENV,
        ORDER_DURABILITY: 'replicas',
        ORDER_DURABILITY_REPLICAS: '1',
        LOCK_REPLICA_SYNC: '1',
      },
    });
  });
  afterAll(() => stack?.stop());

  it('keeps every order that got a 202 (each in MySQL after the failover) and oversells nothing', async () => {
    const voucherId = await createSeckillVoucher(stack.url, STOCK);
    let failedOverTo = 0;
    let failedOverAt = Infinity;
    const attempts = await runAsyncSale(stack.url, voucherId, {
      ...SALE,
      midway: async () => {
        const old = stack.redisSentinel!.masterFrontPort;
        await stack.redis.process.kill();
        failedOverTo = await stack.redisSentinel!.untilFailedOver(old);
        failedOverAt = Date.now();
      },
    });
    expect(stack.redisSentinel!.replicas.map((replica) => replica.port)).toContain(failedOverTo);
    // While the master is gone: Redis unreachable, the admission not confirmed by a replica, or the
    // new master not yet with a replica of its own.
    expectDocumentedAnswers(attempts, [
      'REDIS_UNAVAILABLE',
      'DURABILITY_UNCONFIRMED',
      'REDIS_NOT_DURABLE',
      'ID_UNAVAILABLE',
      'SALE_UNAVAILABLE',
    ]);
    const at = { sentinels: stack.redisSentinel!.urls, name: SENTINEL_MASTER_NAME };
    await waitForDrain(at, voucherId, 90_000);
    const accepted = attempts.filter((attempt) => attempt.status === 202);
    // The sale goes on on the promoted replica (once it has a replica of its own): new buyers get 202s.
    for (let user = 900_000; !accepted.some((attempt) => attempt.at > failedOverAt); user++) {
      expect(Date.now()).toBeLessThan(failedOverAt + 30_000);
      const attempt = await orderAsync(stack.url, voucherId, String(user));
      attempts.push(attempt);
      if (attempt.status === 202) {
        accepted.push(attempt);
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await waitForDrain(at, voucherId, 90_000);
    const orders = await readOrders(stack.mysqlUrl, voucherId);
    for (const attempt of accepted) {
      expect({ orderId: attempt.orderId, user: orders.get(attempt.orderId!) }).toEqual({
        orderId: attempt.orderId,
        user: attempt.userId,
      });
    }
    const invariants = await readInvariants(stack.mysqlUrl, voucherId);
    expect(orders.size).toBeLessThanOrEqual(STOCK);
    expect(invariants.stock).toBe(STOCK - orders.size);
    expect(invariants.usersWithTwoOrders).toBe(0);
    // The new master and MySQL agree: nothing in MySQL that the promoted replica could sell again.
    const redis = await readRedisSale(at, voucherId);
    expect(redis.stock).toBe(invariants.stock);
    expect(redis.buyers).toEqual(new Set(orders.values()));
  });
});
