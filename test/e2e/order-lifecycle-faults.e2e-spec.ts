import type { LocalStack } from '../../scripts/stack/local-stack';
import { createSeckillVoucher, tokenFor } from '../support/flash-sale';
import { http } from '../support/http';
import { inParallel, placeOrder, readLifecycle, readRedisReturns, sleep, waitFor } from '../support/lifecycle';
import { startTestCluster } from '../support/test-cluster';

/** Replicas wait this long between a cancellation's COMMIT and its Redis return: the crash window. */
const RETURN_DELAY_MS = 4000;
const FAST_RELAY = { ORDER_RETURN_RELAY_INTERVAL_MS: '200', ORDER_EXPIRY_SCAN_INTERVAL_MS: '200' };

/**
 * Cancels one of five orders through replica 1 directly and SIGKILLs that replica after the
 * cancellation committed, before it told Redis; returns the sale once the others had time to relay.
 */
async function cancelThenCrash(cluster: LocalStack, orderUserId: string) {
  const url = cluster.replicas[0].url;
  const voucherId = await createSeckillVoucher(url, 10);
  const placed = await inParallel(['100', '101', '102', '103', orderUserId], 5, (userId) =>
    placeOrder(url, voucherId, userId),
  );
  const target = placed[4];
  expect(placed.map((attempt) => attempt.status)).toEqual([201, 201, 201, 201, 201]);
  const cancel = http('POST', `${url}/voucher-order/${target.orderId}/cancel`, { token: tokenFor(orderUserId) }).catch(
    () => null,
  );
  const committed = await waitFor(
    () => readLifecycle(cluster.mysqlUrl, voucherId),
    (sale) => sale.cancelled === 1,
    5000,
  );
  expect(committed.cancelled).toBe(1);
  await cluster.replicas[0].process.kill();
  await cancel;
  // The surviving replicas' relay sweeps pick up what the dead one left (rows older than 400 ms).
  await sleep(2500);
  return {
    voucherId,
    orderId: target.orderId!,
    mysql: await readLifecycle(cluster.mysqlUrl, voucherId),
    redis: await readRedisReturns(cluster.redis.url, voucherId),
  };
}

describe('Order lifecycle faults: a replica SIGKILLed between a cancellation and its Redis return', () => {
  it('gives the unit back in Redis exactly once after recovery (outbox relayed by the other replicas)', async () => {
    const cluster = await startTestCluster({
      replicas: 2,
      env: { ...FAST_RELAY, ORDER_TEST_RETURN_DELAY_MS: String(RETURN_DELAY_MS) },
    });
    try {
      const { mysql, redis, orderId } = await cancelThenCrash(cluster, '7001');
      expect(mysql.stock).toBe(6);
      expect(mysql.outboxRows).toBe(0);
      expect(redis.stock).toBe(mysql.stock);
      expect([...redis.returned]).toEqual([orderId]);
      // The buyer may buy again.
      expect(redis.buyers.has('7001')).toBe(false);
    } finally {
      await cluster.stop();
    }
  });

  it('negative control: with ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX the same crash loses the unit in Redis', async () => {
    const cluster = await startTestCluster({
      replicas: 2,
      env: {
        ...FAST_RELAY,
        ORDER_TEST_RETURN_DELAY_MS: String(RETURN_DELAY_MS),
        ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX: 'true',
      },
    });
    try {
      const { mysql, redis } = await cancelThenCrash(cluster, '7002');
      expect(mysql.stock).toBe(6);
      // MySQL took the unit back; Redis never heard of it: one unit that will never sell again.
      expect(redis.stock).toBe(mysql.stock - 1);
    } finally {
      await cluster.stop();
    }
  });
});

describe('Order lifecycle faults: a replica SIGKILLed in the middle of the expiry sweep', () => {
  it('expires no order twice and leaves none unpaid past its deadline plus the bound', async () => {
    const cluster = await startTestCluster({
      replicas: 3,
      env: { ...FAST_RELAY, ORDER_PAYMENT_TIMEOUT_MS: '5000', ORDER_EXPIRY_BATCH_SIZE: '10' },
    });
    try {
      const stock = 600;
      const voucherId = await createSeckillVoucher(cluster.url, stock);
      const users = Array.from({ length: stock }, (_, i) => String(40_000 + i));
      const placed = await inParallel(users, 25, (userId) => placeOrder(cluster.url, voucherId, userId));
      expect(placed.filter((attempt) => attempt.status === 201)).toHaveLength(stock);
      // Once the first orders lapse, the sweep is running on every replica: kill one in it.
      await waitFor(
        () => readLifecycle(cluster.mysqlUrl, voucherId),
        (sale) => sale.cancelled > 0,
        15_000,
      );
      await cluster.replicas[0].process.kill();
      const done = await waitFor(
        async () => ({
          mysql: await readLifecycle(cluster.mysqlUrl, voucherId),
          redis: await readRedisReturns(cluster.redis.url, voucherId),
        }),
        ({ mysql, redis }) => mysql.cancelled === stock && mysql.outboxRows === 0 && redis.stock === mysql.stock,
        20_000,
      );
      expect(done.mysql.cancelled).toBe(stock);
      // Each unit came back once: to MySQL (stock) and to Redis (one record per order).
      expect(done.mysql.stock).toBe(stock);
      expect(done.redis.stock).toBe(stock);
      expect(done.redis.returned.size).toBe(stock);
    } finally {
      await cluster.stop();
    }
  });
});
