import { Redis } from 'ioredis';
import type { LocalStack } from '../../scripts/stack/local-stack';
import {
  ASYNC_ENV,
  orderAsync,
  orderState,
  readOrders,
  readRedisSale,
  runAsyncSale,
  waitForDrain,
  expectDocumentedAnswers,
} from '../support/async-sale';
import { createSeckillVoucher, readInvariants } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STOCK = 2000;
// Faults strike at the half-way request, while stock is left (sold out only near the end).
const SALE = { users: 2500, requests: 3000, concurrency: 30 };

async function expectNoOversell(cluster: LocalStack & { url: string }, voucherId: string) {
  const orders = await readOrders(cluster.mysqlUrl, voucherId);
  const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
  expect(orders.size).toBeLessThanOrEqual(STOCK);
  expect(invariants.stock).toBe(STOCK - orders.size);
  expect(invariants.usersWithTwoOrders).toBe(0);
  return { orders, invariants };
}

describe('Async sale: Redis SIGKILLed mid-sale and restarted from its own files (appendfsync always)', () => {
  let cluster: LocalStack & { url: string };
  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env: ASYNC_ENV });
  });
  afterAll(() => cluster?.stop());

  it('keeps every order that got a 202 and oversells nothing', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, STOCK);
    const attempts = await runAsyncSale(cluster.url, voucherId, {
      ...SALE,
      midway: async () => {
        await cluster.redis.process.kill();
        await sleep(1000);
        await cluster.redis.process.start();
      },
    });
    expectDocumentedAnswers(attempts, ['REDIS_UNAVAILABLE', 'ID_UNAVAILABLE']);
    expect(attempts.some((attempt) => attempt.status === 503)).toBe(true);
    await waitForDrain(cluster.redis.url, voucherId);
    const { orders } = await expectNoOversell(cluster, voucherId);
    const accepted = attempts.filter((attempt) => attempt.status === 202);
    for (const attempt of accepted) {
      expect({ orderId: attempt.orderId, user: orders.get(attempt.orderId!) }).toEqual({
        orderId: attempt.orderId,
        user: attempt.userId,
      });
    }
    // Redis came back with every acknowledged write: its stock and buyers match MySQL.
    const redis = await readRedisSale(cluster.redis.url, voucherId);
    expect(redis.stock).toBe(STOCK - orders.size);
    expect(redis.buyers).toEqual(new Set(orders.values()));
  });
});

describe('Async sale: Redis data wiped mid-sale (beyond the durability contract)', () => {
  let cluster: LocalStack & { url: string };
  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env: ASYNC_ENV });
  });
  afterAll(() => cluster?.stop());

  it('answers 503 SALE_UNAVAILABLE until rebuilt from MySQL, then sells on; never oversells, never PENDING forever', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, STOCK);
    let flushedAt = 0;
    const attempts = await runAsyncSale(cluster.url, voucherId, {
      ...SALE,
      midway: async () => {
        const redis = new Redis(cluster.redis.url);
        await redis.flushall();
        flushedAt = Date.now();
        redis.disconnect();
      },
    });
    expectDocumentedAnswers(attempts, ['SALE_UNAVAILABLE']);
    expect(attempts.some((attempt) => attempt.code === 'SALE_UNAVAILABLE')).toBe(true);
    // Sales resumed after the rebuild.
    expect(attempts.some((attempt) => attempt.at > flushedAt && attempt.status === 202)).toBe(true);
    await waitForDrain(cluster.redis.url, voucherId);
    const { orders, invariants } = await expectNoOversell(cluster, voucherId);
    const redis = await readRedisSale(cluster.redis.url, voucherId);
    // Beyond the contract, one gap is known (docs/ARCHITECTURE.md): orders a consumer read before
    // the wipe and committed after the rebuild's snapshot are counted by MySQL but not by the rebuilt
    // state. Redis then offers that many units too many; they fail in MySQL (FAILED STOCK_MISMATCH,
    // unit given back), which leaves Redis exactly that surplus above MySQL when MySQL sells out.
    const failedStock = Object.entries(redis.failed).filter(([, value]) => value.endsWith(':STOCK_MISMATCH'));
    const surplus = (redis.stock ?? Number.NaN) - invariants.stock;
    expect(surplus).toBeGreaterThanOrEqual(0);
    expect(failedStock.length).toBe(surplus);
    const mysqlBuyers = new Set(orders.values());
    expect([...redis.buyers].filter((user) => !mysqlBuyers.has(user))).toEqual([]);
    // (Fewer if such a user ordered again: that second order fails ALREADY_ORDERED, buyer kept.)
    expect([...mysqlBuyers].filter((user) => !redis.buyers.has(user)).length).toBeLessThanOrEqual(surplus);
    // A 202 answered well after the wipe was admitted by the rebuilt state: persisted or (the gap
    // above) FAILED with its unit given back — never lost.
    const failedIds = new Set(Object.keys(redis.failed));
    const lostAfterRebuild = attempts.filter(
      (a) => a.status === 202 && a.at > flushedAt + 2000 && !orders.has(a.orderId!) && !failedIds.has(a.orderId!),
    );
    process.stdout.write(
      `FAULT Redis data wiped mid-sale: ${attempts.filter((a) => a.status === 202).length} accepted, ` +
        `${orders.size} in MySQL; Redis stock ${redis.stock}, MySQL stock ${invariants.stock} ` +
        `(${failedStock.length} failed for the late batches' surplus); ` +
        `${lostAfterRebuild.length} accepted 2 s+ after the wipe lost\n`,
    );
    expect(lostAfterRebuild).toEqual([]);
    // Every 202 is CREATED, FAILED (the gap above) or, lost with the wiped stream, not found;
    // none stays PENDING.
    for (const attempt of attempts.filter((candidate) => candidate.status === 202)) {
      const state = await orderState(cluster.url, attempt.orderId!, attempt.userId);
      if (orders.has(attempt.orderId!)) {
        expect(state).toMatchObject({ status: 200, state: 'CREATED' });
      } else if (failedIds.has(attempt.orderId!)) {
        expect(state).toMatchObject({ status: 200, state: 'FAILED' });
      } else {
        expect(state).toMatchObject({ status: 404 });
      }
    }
  });
});

describe('Async sale: MySQL stopped for a few seconds mid-consumption', () => {
  let cluster: LocalStack & { url: string };
  beforeAll(async () => {
    // Its own MariaDB, so the test can stop it.
    cluster = await startTestCluster({ replicas: 3, env: ASYNC_ENV, mysqlUrl: undefined });
  });
  afterAll(() => cluster?.stop());

  it('keeps the entries pending while MySQL is down and commits all of them after it returns', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, STOCK);
    await cluster.mariadb!.stop();
    const attempts = await runAsyncSale(cluster.url, voucherId, SALE);
    // Admission does not need MySQL: the sale sells out while it is down.
    expect(attempts.filter((attempt) => attempt.status === 202)).toHaveLength(STOCK);
    expectDocumentedAnswers(attempts, []);
    await sleep(2000);
    const held = await readRedisSale(cluster.redis.url, voucherId);
    expect(held.groupPending + held.lag).toBe(STOCK);
    await cluster.mariadb!.process.start();
    await waitForDrain(cluster.redis.url, voucherId);
    const { orders, invariants } = await expectNoOversell(cluster, voucherId);
    expect(orders.size).toBe(STOCK);
    expect(invariants.stock).toBe(0);
    for (const attempt of attempts.filter((candidate) => candidate.status === 202)) {
      expect(orders.get(attempt.orderId!)).toBe(attempt.userId);
    }
    const late = await orderAsync(cluster.url, voucherId, '1');
    expect(late).toMatchObject({ status: 409, code: 'SOLD_OUT' });
  });
});
