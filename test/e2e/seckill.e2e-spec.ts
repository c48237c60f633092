import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import type { LocalStack } from '../../scripts/stack/local-stack';
import {
  createSeckillVoucher,
  orderOnce,
  readInvariants,
  runFlashSale,
  sumCounter,
  type OrderAttempt,
} from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

const DOCUMENTED_409 = ['SOLD_OUT', 'ALREADY_ORDERED', 'LOCK_TIMEOUT'];
const SALE = { users: 1000, perUser: 3, greedy: 50, concurrentUsers: 100 };
const DUPLICATE_KEY_COUNTER = 'seckill_order_duplicate_key_rejections_total';

async function flashSale(cluster: LocalStack & { url: string }) {
  const voucherId = await createSeckillVoucher(cluster.url, 100);
  const attempts = await runFlashSale(cluster.url, voucherId, SALE);
  const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
  const duplicateKeyRejections = await sumCounter(
    cluster.replicas.map((replica) => replica.metricsUrl),
    DUPLICATE_KEY_COUNTER,
  );
  return { voucherId, attempts, invariants, duplicateKeyRejections };
}

function expectNoOversell(attempts: OrderAttempt[], invariants: Awaited<ReturnType<typeof readInvariants>>) {
  expect(attempts).toHaveLength(SALE.users * SALE.perUser + SALE.greedy);
  expect(invariants.orders).toBe(100);
  expect(invariants.stock).toBe(0);
  expect(invariants.usersWithTwoOrders).toBe(0);
  expect(invariants.distinctOrderIds).toBe(100);
  const created = attempts.filter((attempt) => attempt.status === 201);
  expect(created).toHaveLength(100);
  for (const attempt of created) {
    expect(invariants.orderIds.has(attempt.orderId!)).toBe(true);
  }
  const others = attempts.filter((attempt) => attempt.status !== 201);
  for (const attempt of others) {
    expect({ status: attempt.status, code: attempt.code }).toEqual({
      status: 409,
      code: expect.stringMatching(new RegExp(`^(${DOCUMENTED_409.join('|')})$`)),
    });
  }
  // The greedy user got at most one order.
  expect(created.filter((attempt) => attempt.userId === String(SALE.users + 1_000_000)).length).toBeLessThanOrEqual(1);
}

describe('Flash sale across 3 replicas behind nginx, with the distributed lock', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env: { LOCK_MODE: 'redis' } });
  });
  afterAll(() => cluster?.stop());

  it('sells exactly the stock, one per user, with no duplicate-key rejection', async () => {
    const { attempts, invariants, duplicateKeyRejections } = await flashSale(cluster);
    expectNoOversell(attempts, invariants);
    const instances = new Set(attempts.map((attempt) => attempt.instance));
    expect([...instances].sort()).toEqual(['app-1', 'app-2', 'app-3']);
    expect(duplicateKeyRejections).toBe(0);
    // The per-user locks were Redis locks (their fencing counters remain): the mysql-table run's
    // "no lock state in Redis" check below can fail.
    const redis = new Redis(cluster.redis.url);
    try {
      expect((await redis.keys('lock:{order:*')).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('answers window, unknown-voucher and malformed-id requests with documented 4xx and writes nothing', async () => {
    const notStarted = await createSeckillVoucher(cluster.url, 10, { fromMs: 3600_000, toMs: 7200_000 });
    const ended = await createSeckillVoucher(cluster.url, 10, { fromMs: -7200_000, toMs: -3600_000 });
    const before = await readInvariants(cluster.mysqlUrl, notStarted);
    const checks: [string, number, string][] = [
      [notStarted, 409, 'NOT_STARTED'],
      [ended, 409, 'ENDED'],
      ['987654321', 404, 'VOUCHER_NOT_FOUND'],
      ['abc', 400, 'INVALID_ID'],
      ['-1', 400, 'INVALID_ID'],
      ['1e999', 400, 'INVALID_ID'],
      ['123456789012345678901234567890', 400, 'INVALID_ID'],
    ];
    for (const [voucherId, status, code] of checks) {
      const attempt = await orderOnce(cluster.url, voucherId, '77');
      expect({ voucherId, status: attempt.status, code: attempt.code }).toEqual({ voucherId, status, code });
    }
    expect(await readInvariants(cluster.mysqlUrl, notStarted)).toEqual(before);
    expect((await readInvariants(cluster.mysqlUrl, ended)).orders).toBe(0);
  });
});

describe('The same flash sale with LOCK_BACKEND=mysql-table (the per-user lock as rows in MySQL)', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({
      replicas: 3,
      env: { LOCK_BACKEND: 'mysql-table', LOCK_TABLE_SWEEP_INTERVAL_MS: '1000' },
    });
  });
  afterAll(() => cluster?.stop());

  it('sells exactly the stock, one per user, with no duplicate-key rejection and no lock state in Redis', async () => {
    const { attempts, invariants, duplicateKeyRejections } = await flashSale(cluster);
    expectNoOversell(attempts, invariants);
    expect(duplicateKeyRejections).toBe(0);
    const redis = new Redis(cluster.redis.url);
    try {
      expect(await redis.keys('lock:{order:*')).toEqual([]);
    } finally {
      redis.disconnect();
    }
    // Every hold was released: no row is left behind.
    expect(await lockRows(cluster.mysqlUrl)).toEqual([]);
  });

  it('sweeps a dead holder’s expired row within a few sweep intervals', async () => {
    const connection = await createConnection(cluster.mysqlUrl);
    try {
      await connection.query(
        "INSERT INTO distributed_lock (name, owner, holds, expires_at_ms, fence) VALUES ('order:dead', 'gone:1', 1, 0, 1)",
      );
      const deadline = performance.now() + 10_000;
      while ((await lockRows(cluster.mysqlUrl)).length > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await lockRows(cluster.mysqlUrl)).toEqual([]);
    } finally {
      await connection.end();
    }
  });
});

async function lockRows(mysqlUrl: string): Promise<string[]> {
  const connection = await createConnection(mysqlUrl);
  try {
    const [rows] = (await connection.query('SELECT name FROM distributed_lock')) as unknown as [{ name: string }[]];
    return rows.map((row) => row.name);
  } finally {
    await connection.end();
  }
}

describe('Graceful shutdown of a replica during a sale', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('finishes an in-flight order after SIGTERM before the process exits', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 10);
    const redis = new Redis(cluster.redis.url);
    try {
      // Another owner holds this user's lock for 1.5 s, so the order waits inside the replica.
      await redis.hset('lock:{order:555}', 'someone-else:x:1', 1);
      await redis.pexpire('lock:{order:555}', 1500);
      const replica = cluster.replicas[0];
      const inFlight = orderOnce(replica.url, voucherId, '555');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopped = replica.process.stop(15_000);
      const attempt = await inFlight;
      expect(attempt.status).toBe(201);
      const drainStarted = performance.now();
      await stopped;
      // It exits on its own, well before the drain deadline, rather than being cut off.
      expect(performance.now() - drainStarted).toBeLessThan(5000);
      expect(replica.process.exitStatus()).toEqual({ code: null, signal: 'SIGTERM' });
      const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
      expect(invariants.orderIds.has(attempt.orderId!)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

describe('Negative control: the same flash sale with LOCK_MODE=local (in-process mutex per replica)', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env: { LOCK_MODE: 'local' } });
  });
  afterAll(() => cluster?.stop());

  it('lets concurrent orders of one user reach the database (duplicate-key rejections > 0); the unique key still holds', async () => {
    const { attempts, invariants, duplicateKeyRejections } = await flashSale(cluster);
    expect(duplicateKeyRejections).toBeGreaterThan(0);
    expectNoOversell(attempts, invariants);
  });
});
