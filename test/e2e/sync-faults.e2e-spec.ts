import type { LocalStack } from '../../scripts/stack/local-stack';
import { createSeckillVoucher, orderOnce, readInvariants, type OrderAttempt } from '../support/flash-sale';
import { readRedisSale } from '../support/async-sale';
import { startTestCluster } from '../support/test-cluster';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Orders from `count` new users at once; each answer with how long it took. */
async function burst(url: string, voucherId: string, firstUser: number, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const started = performance.now();
      const attempt: OrderAttempt = await orderOnce(url, voucherId, String(firstUser + i));
      return { ...attempt, ms: performance.now() - started };
    }),
  );
}

/** One line for docs/FAULTS.md: what the fault cost. */
function report(fault: string, down: { status: number; ms: number }[], restartedAt: number) {
  const slowest = Math.max(...down.map((attempt) => attempt.ms));
  process.stdout.write(
    `FAULT ${fault}: ${down.filter((attempt) => attempt.status === 503).length}/${down.length} answered 503, ` +
      `slowest answer ${Math.round(slowest)} ms; first 201 ${Math.round(performance.now() - restartedAt)} ms after the restart\n`,
  );
}

describe('Sync sale under infrastructure faults (3 replicas behind nginx, own MariaDB)', () => {
  let cluster: LocalStack & { url: string };
  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, mysqlUrl: undefined });
  });
  afterAll(() => cluster?.stop());

  it('answers 503 DATABASE_UNAVAILABLE while MySQL is stopped — no 500, no hang, nothing half-written — and sells again after', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 100);
    await cluster.mariadb!.stop();
    const down = await burst(cluster.url, voucherId, 1000, 20);
    for (const attempt of down) {
      expect({ status: attempt.status, code: attempt.code }).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });
      expect(attempt.ms).toBeLessThan(8000);
    }
    await cluster.mariadb!.process.start();
    const restarted = performance.now();
    const deadline = Date.now() + 30_000;
    let after = await orderOnce(cluster.url, voucherId, '2000');
    while (after.status === 503) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(250);
      after = await orderOnce(cluster.url, voucherId, '2000');
    }
    expect(after.status).toBe(201);
    report('MySQL stopped', down, restarted);
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.orders).toBe(1);
    expect(invariants.stock).toBe(99);
    // Every unit reserved for a failed order went back to Redis.
    expect((await readRedisSale(cluster.redis.url, voucherId)).stock).toBe(99);
  });

  it('answers 503 REDIS_UNAVAILABLE within the request deadline while Redis is down, and sells again after', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 100);
    await cluster.redis.process.kill();
    const down = await burst(cluster.url, voucherId, 3000, 20);
    for (const attempt of down) {
      expect({ status: attempt.status, code: attempt.code }).toEqual({ status: 503, code: 'REDIS_UNAVAILABLE' });
      expect(attempt.ms).toBeLessThan(8000);
    }
    await cluster.redis.process.start();
    const restarted = performance.now();
    const deadline = Date.now() + 30_000;
    let after = await orderOnce(cluster.url, voucherId, '4000');
    while (after.status === 503) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(250);
      after = await orderOnce(cluster.url, voucherId, '4000');
    }
    expect(after.status).toBe(201);
    report('Redis SIGKILLed', down, restarted);
    expect((await readInvariants(cluster.mysqlUrl, voucherId)).orders).toBe(1);
  });
});
