import { Cluster } from 'ioredis';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { seckillKeys } from '../../src/voucher/seckill-keys';
import {
  ASYNC_ENV,
  orderState,
  readOrders,
  readRedisSale,
  redisAt,
  runAsyncSale,
  waitForDrain,
} from '../support/async-sale';
import { createSeckillVoucher, readInvariants, runFlashSale, sumCounter } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

type Stack = LocalStack & { url: string };

/** The masters (host:port) that own each key's slot, asked of the cluster itself. */
async function ownersOf(stack: Stack, keys: string[]): Promise<Set<string>> {
  const redis = redisAt({ cluster: stack.redisCluster!.urls }) as Cluster;
  try {
    const slots = await redis.cluster('SLOTS');
    const owners = new Set<string>();
    for (const key of keys) {
      const slot = Number(await redis.cluster('KEYSLOT', key));
      const [, , master] = slots.find(([start, end]) => slot >= start && slot <= end)!;
      owners.add(`${master[0]}:${master[1]}`);
    }
    return owners;
  } finally {
    redis.disconnect();
  }
}

/**
 * The app on a real Redis Cluster (3 masters + 3 replicas, AOF always) via REDIS_CLUSTER_NODES, 3
 * replicas behind nginx: the sale's scripts run on the master of each voucher's slot, consumers read
 * every voucher's stream wherever it lives, and the per-user lock's keys and messages stay on its shard.
 */
describe('Flash sales on a Redis Cluster (REDIS_CLUSTER_NODES, 3 masters + 3 replicas)', () => {
  describe('ORDER_MODE=async', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startTestCluster({ replicas: 3, redisCluster: true, env: ASYNC_ENV });
    });
    afterAll(() => stack?.stop());

    it('sells exactly the stock of sales on different masters at once; every 202 ends in MySQL', async () => {
      const cluster = { cluster: stack.redisCluster!.urls };
      // Enough vouchers that their slots fall on more than one master.
      const vouchers: string[] = [];
      for (let i = 0; i < 4; i++) {
        vouchers.push(await createSeckillVoucher(stack.url, 40));
      }
      expect(
        (
          await ownersOf(
            stack,
            vouchers.map((id) => seckillKeys(id).state),
          )
        ).size,
      ).toBeGreaterThan(1);
      const sales = await Promise.all(
        vouchers.map((voucherId) => runAsyncSale(stack.url, voucherId, { users: 150, requests: 400, concurrency: 25 })),
      );
      for (const [i, voucherId] of vouchers.entries()) {
        const attempts = sales[i];
        const accepted = attempts.filter((attempt) => attempt.status === 202);
        for (const attempt of attempts.filter((attempt) => attempt.status !== 202)) {
          expect({ status: attempt.status, code: attempt.code }).toEqual({
            status: 409,
            code: expect.stringMatching(/^(SOLD_OUT|ALREADY_ORDERED)$/),
          });
        }
        expect(accepted).toHaveLength(40);
        await waitForDrain(cluster, voucherId);
        const orders = await readOrders(stack.mysqlUrl, voucherId);
        for (const attempt of accepted) {
          expect(orders.get(attempt.orderId!)).toBe(attempt.userId);
        }
        const invariants = await readInvariants(stack.mysqlUrl, voucherId);
        expect({ orders: invariants.orders, stock: invariants.stock, twice: invariants.usersWithTwoOrders }).toEqual({
          orders: 40,
          stock: 0,
          twice: 0,
        });
        const redis = await readRedisSale(cluster, voucherId);
        expect(redis.stock).toBe(0);
        expect(redis.buyers).toEqual(new Set(orders.values()));
        expect(await orderState(stack.url, accepted[0].orderId!, accepted[0].userId)).toMatchObject({
          status: 200,
          state: 'CREATED',
        });
      }
      const persisted = await Promise.all(
        stack.replicas.map((replica) => sumCounter([replica.metricsUrl], 'seckill_async_orders_persisted_total')),
      );
      expect(persisted.reduce((a, b) => a + b, 0)).toBe(160);
    });
  });

  describe('ORDER_MODE=sync (the per-user lock on the cluster, sharded pub/sub)', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startTestCluster({ replicas: 3, redisCluster: true, env: { LOCK_MODE: 'redis' } });
    });
    afterAll(() => stack?.stop());

    it('sells exactly the stock, one per user, with the per-user locks on every master', async () => {
      const voucherId = await createSeckillVoucher(stack.url, 60);
      const users = 400;
      const attempts = await runFlashSale(stack.url, voucherId, { users, perUser: 3, greedy: 30, concurrentUsers: 60 });
      const created = attempts.filter((attempt) => attempt.status === 201);
      expect(created).toHaveLength(60);
      for (const attempt of attempts.filter((attempt) => attempt.status !== 201)) {
        expect({ status: attempt.status, code: attempt.code }).toEqual({
          status: 409,
          code: expect.stringMatching(/^(SOLD_OUT|ALREADY_ORDERED|LOCK_TIMEOUT)$/),
        });
      }
      const invariants = await readInvariants(stack.mysqlUrl, voucherId);
      expect({ orders: invariants.orders, stock: invariants.stock, twice: invariants.usersWithTwoOrders }).toEqual({
        orders: 60,
        stock: 0,
        twice: 0,
      });
      for (const attempt of created) {
        expect(invariants.orderIds.has(attempt.orderId!)).toBe(true);
      }
      expect(
        await sumCounter(
          stack.replicas.map((replica) => replica.metricsUrl),
          'seckill_order_duplicate_key_rejections_total',
        ),
      ).toBe(0);
      // The buyers' lock fence counters are on the cluster, spread over its masters.
      const buyers = created.map((attempt) => attempt.userId);
      const redis = redisAt({ cluster: stack.redisCluster!.urls });
      try {
        const fences = await Promise.all(buyers.map((userId) => redis.exists(`lock:{order:${userId}}:fence`)));
        expect(fences.every((exists) => exists === 1)).toBe(true);
      } finally {
        redis.disconnect();
      }
      expect(
        (
          await ownersOf(
            stack,
            buyers.map((userId) => `lock:{order:${userId}}`),
          )
        ).size,
      ).toBe(3);
      expect((await readRedisSale({ cluster: stack.redisCluster!.urls }, voucherId)).stock).toBe(0);
    });
  });
});
