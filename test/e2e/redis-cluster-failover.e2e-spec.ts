import type { Cluster } from 'ioredis';
import type { LocalStack } from '../../scripts/stack/local-stack';
import type { RedisServer } from '../../scripts/stack/redis';
import { assertRedisDurable } from '../../src/order/async/redis-durability.check';
import { seckillKeys } from '../../src/voucher/seckill-keys';
import {
  ASYNC_ENV,
  expectDocumentedAnswers,
  readOrders,
  redisAt,
  runAsyncSale,
  waitForDrain,
} from '../support/async-sale';
import { createSeckillVoucher, readInvariants } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

type Stack = LocalStack & { url: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The port of the master that owns `key`'s slot, asked of any node that answers. */
async function ownerPort(stack: Stack, key: string): Promise<number> {
  const redis = redisAt({ cluster: stack.redisCluster!.urls }) as Cluster;
  try {
    const slot = Number(await redis.cluster('KEYSLOT', key));
    const [, , master] = (await redis.cluster('SLOTS')).find(([start, end]) => slot >= start && slot <= end)!;
    return Number(master[1]);
  } finally {
    redis.disconnect();
  }
}

/**
 * "An accepted order is never lost" on a Redis Cluster (issue 21, defect 6): `aof` keeps a 202
 * through a restart of the same node, not through the promotion of a replica that never received
 * it, so async mode refuses `aof` where the Cluster can promote a replica; with `replicas` (the
 * launcher's default on a Cluster) a master SIGKILLed mid-sale loses no 202.
 */
describe('Async sale on a Redis Cluster (3 masters + 3 replicas) whose master is SIGKILLed mid-sale', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestCluster({ replicas: 3, redisCluster: true, env: ASYNC_ENV });
  });
  afterAll(() => stack?.stop());

  it('refuses ORDER_DURABILITY=aof there: a replica the failover promotes may lack the last 202s', async () => {
    await expect(
      assertRedisDurable({
        ORDER_MODE: 'async',
        ORDER_DURABILITY: 'aof',
        ORDER_DURABILITY_REPLICAS: 1,
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: stack.redisCluster!.urls,
      }),
    ).rejects.toThrow(/1 replicas are attached, which the Cluster's automatic failover can promote/);
  });

  it('keeps every 202 through the promotion (ORDER_DURABILITY=replicas): all in MySQL, no oversell', async () => {
    const stock = 300;
    const voucherId = await createSeckillVoucher(stack.url, stock);
    const key = seckillKeys(voucherId).state;
    const ownerPortNow = await ownerPort(stack, key);
    const master = stack.redisCluster!.servers.find((server) => server.port === ownerPortNow) as RedisServer;
    expect(master).toBeDefined();
    let promotedAfterMs = 0;
    const attempts = await runAsyncSale(stack.url, voucherId, {
      users: 500,
      requests: 600,
      concurrency: 20,
      midway: async () => {
        const killedAt = Date.now();
        await master.process.kill();
        // The Cluster promotes the sale's replica (cluster-node-timeout 2 s); then the old master
        // comes back from its AOF and rejoins as its replica, which ORDER_DURABILITY=replicas waits for.
        for (;;) {
          const port = await ownerPort(stack, key).catch(() => ownerPortNow);
          if (port !== ownerPortNow) {
            break;
          }
          expect(Date.now() - killedAt).toBeLessThan(30_000);
          await sleep(200);
        }
        promotedAfterMs = Date.now() - killedAt;
        await master.process.start();
      },
    });
    expectDocumentedAnswers(attempts, [
      'REDIS_UNAVAILABLE',
      'REDIS_NOT_DURABLE',
      'DURABILITY_UNCONFIRMED',
      'ID_UNAVAILABLE',
      'ORDER_BACKLOG',
    ]);
    await waitForDrain({ cluster: stack.redisCluster!.urls }, voucherId, 60_000);
    const orders = await readOrders(stack.mysqlUrl, voucherId);
    const accepted = attempts.filter((attempt) => attempt.status === 202);
    const lost = accepted.filter((attempt) => orders.get(attempt.orderId!) !== attempt.userId);
    const invariants = await readInvariants(stack.mysqlUrl, voucherId);
    process.stdout.write(
      `FAULT Cluster master SIGKILLed mid-sale: promoted after ${promotedAfterMs} ms; ${accepted.length} accepted, ` +
        `${orders.size} in MySQL, ${lost.length} lost\n`,
    );
    expect(promotedAfterMs).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(orders.size).toBeLessThanOrEqual(stock);
    expect(invariants.stock).toBe(stock - orders.size);
    expect(invariants.usersWithTwoOrders).toBe(0);
  });
});
