import { createConnection, type Connection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from '../../src/order/async/order-stream.keys';
import {
  ASYNC_ENV,
  orderAsync,
  orderState,
  readOrders,
  readRedisSale,
  runAsyncSale,
  waitForDrain,
  type AsyncAttempt,
} from '../support/async-sale';
import { createSeckillVoucher, readInvariants, sumCounter } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The invariants of a drained async sale, read from MySQL and Redis directly. */
async function expectSaleHolds(cluster: LocalStack & { url: string }, voucherId: string, attempts: AsyncAttempt[]) {
  await waitForDrain(cluster.redis.url, voucherId);
  const orders = await readOrders(cluster.mysqlUrl, voucherId);
  const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
  const redis = await readRedisSale(cluster.redis.url, voucherId);
  const accepted = attempts.filter((attempt) => attempt.status === 202);
  // Every 202 is in MySQL, under its buyer; nothing else is.
  for (const attempt of accepted) {
    expect({ orderId: attempt.orderId, user: orders.get(attempt.orderId!) }).toEqual({
      orderId: attempt.orderId,
      user: attempt.userId,
    });
  }
  expect(orders.size).toBe(accepted.length);
  expect(invariants.usersWithTwoOrders).toBe(0);
  expect(new Set(orders.values()).size).toBe(orders.size);
  // Redis and MySQL agree.
  expect(redis.stock).toBe(invariants.stock);
  expect(redis.buyers).toEqual(new Set(orders.values()));
  return { orders, invariants, redis, accepted };
}

describe('Async flash sale (ORDER_MODE=async) across 3 replicas behind nginx', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env: ASYNC_ENV });
  });
  afterAll(() => cluster?.stop());

  it('sells exactly the stock to 2,000 users sending 5,000 requests; every 202 ends CREATED in MySQL', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 200);
    const attempts = await runAsyncSale(cluster.url, voucherId, { users: 2000, requests: 5000, concurrency: 100 });
    const others = attempts.filter((attempt) => attempt.status !== 202);
    for (const attempt of others) {
      expect({ status: attempt.status, code: attempt.code }).toEqual({
        status: 409,
        code: expect.stringMatching(/^(SOLD_OUT|ALREADY_ORDERED)$/),
      });
    }
    const { invariants, redis, accepted } = await expectSaleHolds(cluster, voucherId, attempts);
    expect(accepted).toHaveLength(200);
    expect(invariants.orders).toBe(200);
    expect(invariants.stock).toBe(0);
    expect(redis.stock).toBe(0);
    expect(redis.buyers.size).toBe(200);
    // The buyer sees CREATED; someone else sees nothing.
    for (const attempt of accepted.slice(0, 20)) {
      expect(await orderState(cluster.url, attempt.orderId!, attempt.userId)).toMatchObject({
        status: 200,
        state: 'CREATED',
      });
    }
    expect(await orderState(cluster.url, accepted[0].orderId!, '999999')).toMatchObject({
      status: 404,
      code: 'ORDER_NOT_FOUND',
    });
    // The sale was persisted by the consumers of more than one replica, in batches.
    const perReplica = await Promise.all(
      cluster.replicas.map((replica) => sumCounter([replica.metricsUrl], 'seckill_async_orders_persisted_total')),
    );
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('answers PENDING before the order is persisted (MySQL row lock held by the test)', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 5);
    const db = await createConnection({ uri: cluster.mysqlUrl });
    try {
      await db.beginTransaction();
      await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
      const attempt = await orderAsync(cluster.url, voucherId, '4242');
      expect(attempt.status).toBe(202);
      for (let i = 0; i < 3; i++) {
        expect(await orderState(cluster.url, attempt.orderId!, '4242')).toMatchObject({
          status: 200,
          state: 'PENDING',
        });
      }
      expect((await orderState(cluster.url, attempt.orderId!, '4243')).status).toBe(404);
      await db.rollback();
      await waitForDrain(cluster.redis.url, voucherId);
      expect(await orderState(cluster.url, attempt.orderId!, '4242')).toMatchObject({ status: 200, state: 'CREATED' });
    } finally {
      await db.end();
    }
  });

  it('dead-letters a poison entry after ORDER_MAX_ATTEMPTS, compensates once, and lets the user buy again', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 10);
    const db = await createConnection({ uri: cluster.mysqlUrl });
    try {
      // The operator's mistake: MySQL's stock row says 0, Redis still sells; no batch can take stock.
      await db.query('UPDATE tb_seckill_voucher SET stock = 0 WHERE voucher_id = ?', [voucherId]);
      const first = await orderAsync(cluster.url, voucherId, '777');
      expect(first.status).toBe(202);
      const deadline = Date.now() + 60_000;
      while ((await orderState(cluster.url, first.orderId!, '777')).state !== 'FAILED') {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(250);
      }
      const sale = await readRedisSale(cluster.redis.url, voucherId);
      expect(sale.stock).toBe(10);
      expect(sale.buyers.has('777')).toBe(false);
      expect(Object.keys(sale.failed)).toEqual([first.orderId]);
      const redis = new Redis(cluster.redis.url);
      try {
        expect(await redis.xlen(orderStreamKeys(voucherId).dead)).toBe(1);
        // Acknowledged (not pending any more), and counted exactly once over all replicas.
        expect(await redis.xpending(orderStreamKeys(voucherId).orders, ORDER_CONSUMER_GROUP)).toEqual([
          0,
          null,
          null,
          null,
        ]);
      } finally {
        redis.disconnect();
      }
      const metricsUrls = cluster.replicas.map((replica) => replica.metricsUrl);
      expect(await sumCounter(metricsUrls, 'seckill_async_orders_dead_lettered_total{reason="STOCK_MISMATCH"}')).toBe(
        1,
      );
      // Fixed by the operator: the same user buys again and this time it is persisted.
      await db.query('UPDATE tb_seckill_voucher SET stock = 10 WHERE voucher_id = ?', [voucherId]);
      const second = await orderAsync(cluster.url, voucherId, '777');
      expect(second.status).toBe(202);
      await waitForDrain(cluster.redis.url, voucherId);
      expect(await orderState(cluster.url, second.orderId!, '777')).toMatchObject({ state: 'CREATED' });
      expect(await orderState(cluster.url, first.orderId!, '777')).toMatchObject({ state: 'FAILED' });
      expect((await readInvariants(cluster.mysqlUrl, voucherId)).stock).toBe(9);
    } finally {
      await db.end();
    }
  });
});

/**
 * Holds the voucher's stock row so every consumer is stuck inside its batch transaction (rows
 * inserted, UPDATE waiting), then SIGKILLs replica 1 with its batch in flight.
 */
async function killReplicaMidBatch(env: NodeJS.ProcessEnv) {
  // Claims only after 5 s, so replica 1 still holds its entries when it is killed.
  const cluster = await startTestCluster({
    replicas: 3,
    env: { ...ASYNC_ENV, ORDER_BATCH_SIZE: '20', ORDER_CLAIM_IDLE_MS: '5000', ...env },
  });
  let db: Connection | undefined;
  try {
    const voucherId = await createSeckillVoucher(cluster.url, 300);
    db = await createConnection({ uri: cluster.mysqlUrl });
    await db.beginTransaction();
    await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
    const attempts = await runAsyncSale(cluster.url, voucherId, { users: 300, requests: 300, concurrency: 30 });
    // Every replica's consumer has a batch waiting on the row lock.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [[row]] = (await db.query(
        "SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
      )) as unknown as [[{ n: number }]];
      if (Number(row.n) >= 3) {
        break;
      }
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
    const redis = new Redis(cluster.redis.url);
    const [, , , consumers] = (await redis.xpending(orderStreamKeys(voucherId).orders, ORDER_CONSUMER_GROUP)) as [
      number,
      string,
      string,
      [string, string][] | null,
    ];
    redis.disconnect();
    const killedHeld = Number((consumers ?? []).find(([name]) => name === 'app-1')?.[1] ?? 0);
    await cluster.replicas[0].process.kill();
    await db.rollback();
    return { cluster, voucherId, attempts, killedHeld };
  } catch (error) {
    await cluster.stop();
    throw error;
  } finally {
    await db?.end();
  }
}

describe('A replica SIGKILLed after reading entries and before acknowledging them', () => {
  it('loses nothing: its entries are claimed and persisted exactly once by the others', async () => {
    const { cluster, voucherId, attempts, killedHeld } = await killReplicaMidBatch({});
    try {
      expect(killedHeld).toBeGreaterThan(0);
      const { accepted, invariants } = await expectSaleHolds(cluster, voucherId, attempts);
      expect(accepted).toHaveLength(300);
      expect(invariants.orders).toBe(300);
      expect(invariants.stock).toBe(0);
      const survivors = cluster.replicas.slice(1).map((replica) => replica.metricsUrl);
      expect(await sumCounter(survivors, 'seckill_async_entries_claimed_total')).toBeGreaterThanOrEqual(killedHeld);
    } finally {
      await cluster.stop();
    }
  });

  it('negative control: with ORDER_UNSAFE_ACK_BEFORE_COMMIT the same crash loses accepted orders', async () => {
    const { cluster, voucherId, attempts } = await killReplicaMidBatch({ ORDER_UNSAFE_ACK_BEFORE_COMMIT: 'true' });
    try {
      await waitForDrain(cluster.redis.url, voucherId);
      const orders = await readOrders(cluster.mysqlUrl, voucherId);
      const accepted = attempts.filter((attempt) => attempt.status === 202);
      expect(accepted).toHaveLength(300);
      const lost = accepted.filter((attempt) => !orders.has(attempt.orderId!));
      // app-1's batch was acknowledged, then rolled back by the crash: those 202s are gone.
      expect(lost.length).toBeGreaterThan(0);
    } finally {
      await cluster.stop();
    }
  });
});

describe('SIGTERM of a replica whose consumer holds a batch', () => {
  it('finishes (commits and acknowledges) the batch in flight, then exits', async () => {
    // No claims during the test: whatever the stopping replica read, it must persist itself.
    const cluster = await startTestCluster({ replicas: 2, env: { ...ASYNC_ENV, ORDER_CLAIM_IDLE_MS: '60000' } });
    const db = await createConnection({ uri: cluster.mysqlUrl });
    const redis = new Redis(cluster.redis.url);
    try {
      const voucherId = await createSeckillVoucher(cluster.url, 50);
      await db.beginTransaction();
      await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
      const attempts = await runAsyncSale(cluster.url, voucherId, { users: 20, requests: 20, concurrency: 5 });
      expect(attempts.every((attempt) => attempt.status === 202)).toBe(true);
      const holding = async () => {
        const [, , , consumers] = (await redis.xpending(orderStreamKeys(voucherId).orders, ORDER_CONSUMER_GROUP)) as [
          number,
          string,
          string,
          [string, string][] | null,
        ];
        return new Map((consumers ?? []).map(([name, n]) => [name, Number(n)]));
      };
      let held = await holding();
      const deadline = Date.now() + 10_000;
      while (held.size === 0) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(50);
        held = await holding();
      }
      const [name] = [...held.keys()];
      const target = cluster.replicas.find((replica) => replica.instanceId === name)!;
      const stopped = target.process.stop(20_000);
      await sleep(700);
      // Still finishing: its transaction waits on the row the test holds.
      expect(target.process.running).toBe(true);
      await db.rollback();
      await stopped;
      expect(target.process.exitStatus()).toEqual({ code: null, signal: 'SIGTERM' });
      // It acknowledged its own batch before exiting.
      expect((await holding()).get(name) ?? 0).toBe(0);
      await waitForDrain(cluster.redis.url, voucherId);
      const orders = await readOrders(cluster.mysqlUrl, voucherId);
      for (const attempt of attempts) {
        expect(orders.get(attempt.orderId!)).toBe(attempt.userId);
      }
    } finally {
      redis.disconnect();
      await db.end();
      await cluster.stop();
    }
  });
});
