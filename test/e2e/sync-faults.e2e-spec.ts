import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { AppReplica } from '../../scripts/stack/app-replica';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { createSeckillVoucher, orderOnce, readInvariants, type OrderAttempt } from '../support/flash-sale';
import { readRedisSale } from '../support/async-sale';
import { waitFor } from '../support/lifecycle';
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

/** The user's order, tried while it answers 503 (for at most 30 s): the first other answer, or the last 503. */
const untilNot503 = (url: string, voucherId: string, userId: string): Promise<OrderAttempt> =>
  waitFor(
    () => orderOnce(url, voucherId, userId),
    (attempt) => attempt.status !== 503,
    30_000,
  );

/** One line for docs/FAULTS.md: what the fault cost. */
function report(fault: string, down: { status: number; ms: number }[], restartedAt: number) {
  const slowest = Math.max(...down.map((attempt) => attempt.ms));
  process.stdout.write(
    `FAULT ${fault}: ${down.filter((attempt) => attempt.status === 503).length}/${down.length} answered 503, ` +
      `slowest answer ${Math.round(slowest)} ms; first 201 ${Math.round(performance.now() - restartedAt)} ms after the restart\n`,
  );
}

interface TimedAttempt extends OrderAttempt {
  started: number;
  ended: number;
}

/**
 * Open-loop load: a new buyer's order every `everyMs`, whether or not earlier ones were answered
 * (requests routed to a paused replica hang without holding the others back).
 */
function openLoad(url: string, voucherId: string, firstUser: number, everyMs = 5) {
  const attempts: TimedAttempt[] = [];
  const inFlight: Promise<void>[] = [];
  let next = firstUser;
  const timer = setInterval(() => {
    const userId = String(next++);
    const started = performance.now();
    inFlight.push(
      orderOnce(url, voucherId, userId).then(
        (attempt) => void attempts.push({ ...attempt, started, ended: performance.now() }),
        () => void attempts.push({ userId, status: 0, instance: null, started, ended: performance.now() }),
      ),
    );
  }, everyMs);
  return {
    async stop(): Promise<TimedAttempt[]> {
      clearInterval(timer);
      await Promise.all(inFlight);
      return attempts;
    },
  };
}

/** Local TCP ports of a process's sockets (its MySQL connections among them), from /proc. */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) {
        inodes.add(inode);
      }
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length > 9 && inodes.has(columns[9])) {
        ports.add(parseInt(columns[1].split(':').pop()!, 16));
      }
    }
  }
  return ports;
}

/**
 * SIGSTOPs `replica` at a moment it is inside an order transaction: while it is paused, MariaDB
 * shows one of *its* connections (matched by client port) idle inside a transaction that holds row
 * locks. Otherwise it lets the replica go on and tries again.
 */
async function pauseInsideTransaction(mysqlUrl: string, replica: AppReplica): Promise<void> {
  const db = await createConnection({ uri: mysqlUrl });
  try {
    for (let attempt = 0; attempt < 60; attempt++) {
      replica.process.pause();
      const ports = localPortsOf(replica.process.pid!);
      // Its statement in flight may still be waiting for the row: look for up to 1.2 s (the test's
      // idle_transaction_timeout is 2 s).
      for (let look = 0; look < 12; look++) {
        await sleep(100);
        const [rows] = (await db.query(
          `SELECT p.HOST AS host FROM information_schema.innodb_trx t
             JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id
            WHERE p.COMMAND = 'Sleep' AND t.trx_rows_locked > 0`,
        )) as unknown as [{ host: string }[]];
        if (rows.some((row) => ports.has(Number(row.host.split(':').pop())))) {
          return;
        }
      }
      replica.process.resume();
      await sleep(50 + Math.random() * 150);
    }
  } finally {
    await db.end();
  }
  throw new Error(`${replica.process.name} never paused inside an order transaction`);
}

/** Who MySQL says bought: userId → orderId. */
async function buyers(mysqlUrl: string, voucherId: string): Promise<Map<string, string>> {
  const db = await createConnection({ uri: mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = (await db.query('SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [{ id: string; user_id: string }[]];
    return new Map(rows.map((row) => [String(row.user_id), String(row.id)]));
  } finally {
    await db.end();
  }
}

async function mysqlStock(mysqlUrl: string, voucherId: string): Promise<number> {
  return (await readInvariants(mysqlUrl, voucherId)).stock;
}

describe('Sync sale under infrastructure faults (3 replicas behind nginx, own MariaDB)', () => {
  let cluster: LocalStack & { url: string };
  beforeAll(async () => {
    cluster = await startTestCluster({
      replicas: 3,
      mysqlUrl: undefined,
      // Short bounds so a stuck transaction costs seconds here (the defaults are 10 s and 30 s).
      // Each batch holds its transaction (and the stock row) open 40 ms before COMMIT: a short window
      // between writes and COMMIT is what SIGSTOP/SIGKILL must land in, and with group commit it is
      // too short to hit by chance within the attempts below.
      env: {
        MYSQL_IDLE_TRANSACTION_TIMEOUT_S: '2',
        MYSQL_LOCK_WAIT_TIMEOUT_S: '2',
        RECONCILE_INTERVAL_MS: '2000',
        ORDER_TEST_COMMIT_DELAY_MS: '40',
        // Above the lock wait (2 s): a statement MariaDB does not answer fails after 2.5 s.
        MYSQL_QUERY_TIMEOUT_MS: '2500',
      },
    });
  });
  afterAll(() => cluster?.stop());

  /** Waits (a few reconciliation rounds at most) until Redis' stock of the sale is `expected`. */
  async function untilRedisStockIs(expected: number, voucherId: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await readRedisSale(cluster.redis.url, voucherId)).stock !== expected) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(200);
    }
  }

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
    expect((await untilNot503(cluster.url, voucherId, '2000')).status).toBe(201);
    report('MySQL stopped', down, restarted);
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.orders).toBe(1);
    expect(invariants.stock).toBe(99);
    // Every unit reserved for a failed order went back to Redis.
    expect((await readRedisSale(cluster.redis.url, voucherId)).stock).toBe(99);
  });

  it('answers 503 DATABASE_UNAVAILABLE within the statement timeout while MariaDB is SIGSTOPped — no hang — and sells again after SIGCONT', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 100);
    // Every replica has pooled connections open: the requests below reach MariaDB, not a failing connect.
    await burst(cluster.url, voucherId, 3000, 6);
    cluster.mariadb!.process.pause();
    let down: Awaited<ReturnType<typeof burst>>;
    try {
      down = await burst(cluster.url, voucherId, 3100, 20);
    } finally {
      cluster.mariadb!.process.resume();
    }
    const resumedAt = performance.now();
    for (const attempt of down) {
      expect({ status: attempt.status, code: attempt.code }).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });
      // The statement and its ROLLBACK each bounded by MYSQL_QUERY_TIMEOUT_MS (2.5 s), not the pause.
      expect(attempt.ms).toBeLessThan(8000);
    }
    expect((await untilNot503(cluster.url, voucherId, '3200')).status).toBe(201);
    report('MariaDB SIGSTOPped', down, resumedAt);
    // Nothing a timed-out request sent committed once MariaDB went on; every reserved unit came back.
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.orders).toBe(7);
    expect(invariants.stock).toBe(93);
    await untilRedisStockIs(93, voucherId);
  });

  it('answers 503 REDIS_UNAVAILABLE while Redis is SIGKILLed mid-sale, sells again once it is back empty; invariants hold', async () => {
    const stock = 100_000;
    const voucherId = await createSeckillVoucher(cluster.url, stock);
    const load = openLoad(cluster.url, voucherId, 300_000, 10);
    await sleep(1000);
    await cluster.redis.process.kill();
    const killedAt = performance.now();
    // Restarted empty: its files gone too (sale state, buyers, locks, id counters).
    rmSync(join(cluster.redis.dir, 'appendonlydir'), { recursive: true, force: true });
    await sleep(3000);
    await cluster.redis.process.start();
    const restartedAt = performance.now();
    await sleep(3000);
    const attempts = await load.stop();

    // While it was down: 503 with a code, each within the 2 s command bound (not a hang).
    const down = attempts.filter((a) => a.started > killedAt + 50 && a.ended < restartedAt);
    expect(down.length).toBeGreaterThan(0);
    for (const attempt of down) {
      expect({ status: attempt.status, code: attempt.code }).toEqual({ status: 503, code: 'REDIS_UNAVAILABLE' });
      expect(attempt.ended - attempt.started).toBeLessThan(8000);
    }
    for (const attempt of attempts) {
      expect([201, 503]).toContain(attempt.status);
    }
    // Sales resumed: the order path republished the missing state from MySQL.
    const after = attempts.filter((a) => a.status === 201 && a.started > restartedAt);
    expect(after.length).toBeGreaterThan(0);
    const resumedAfter = Math.min(...after.map((a) => a.ended)) - restartedAt;

    // No 2xx for an order that is not in MySQL; no oversell; one order per user.
    const bought = await buyers(cluster.mysqlUrl, voucherId);
    for (const attempt of attempts.filter((a) => a.status === 201)) {
      expect(bought.get(attempt.userId)).toBe(attempt.orderId);
    }
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.stock + invariants.orders).toBe(stock);
    expect(invariants.usersWithTwoOrders).toBe(0);
    expect(invariants.distinctOrderIds).toBe(invariants.orders);
    await untilRedisStockIs(invariants.stock, voucherId);
    const slowest = Math.max(...down.map((a) => a.ended - a.started));
    process.stdout.write(
      `FAULT Redis SIGKILLed mid-sale, restarted empty after 3 s: ${down.length}/${down.length} answered 503 REDIS_UNAVAILABLE while down, ` +
        `slowest ${Math.round(slowest)} ms; first 201 ${Math.round(resumedAfter)} ms after the restart; ` +
        `${attempts.filter((a) => a.status === 503 && bought.has(a.userId)).length} answered 503 whose order is in MySQL\n`,
    );
  });

  it('keeps selling while a replica is SIGSTOPped inside an order transaction; its answer agrees with MySQL after SIGCONT', async () => {
    const stock = 100_000;
    const voucherId = await createSeckillVoucher(cluster.url, stock);
    const paused = cluster.replicas[0];
    const load = openLoad(cluster.url, voucherId, 10_000);
    await sleep(1000);
    await pauseInsideTransaction(cluster.mysqlUrl, paused);
    const pausedAt = performance.now();
    await sleep(5000);
    paused.process.resume();
    const resumedAt = performance.now();
    await sleep(1500);
    const attempts = await load.stop();

    // The others sold while it was stopped: orders that arrived after the pause got their 201
    // from another replica before it was let go (MariaDB ended its idle transaction after 2 s).
    const soldMeanwhile = attempts.filter(
      (a) => a.status === 201 && a.instance !== paused.process.name && a.started > pausedAt && a.ended < resumedAt,
    );
    expect(soldMeanwhile.length).toBeGreaterThan(0);
    const resumedAfter = Math.min(...soldMeanwhile.map((a) => a.ended)) - pausedAt;
    // Its own requests were held and answered after SIGCONT — 201 or 503, never a 500.
    const held = attempts.filter(
      (a) => a.instance === paused.process.name && a.started < pausedAt && a.ended > resumedAt,
    );
    expect(held.length).toBeGreaterThan(0);
    for (const attempt of attempts) {
      expect([201, 503]).toContain(attempt.status);
    }
    // Every answer agrees with MySQL: a 201 is there under its id, anything else is not there.
    const bought = await buyers(cluster.mysqlUrl, voucherId);
    for (const attempt of attempts) {
      expect({ user: attempt.userId, order: bought.get(attempt.userId) }).toEqual({
        user: attempt.userId,
        order: attempt.status === 201 ? attempt.orderId : undefined,
      });
    }
    expect(bought.size).toBe(attempts.filter((a) => a.status === 201).length);
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.stock + invariants.orders).toBe(stock);
    expect(invariants.usersWithTwoOrders).toBe(0);
    // Units reserved for orders that failed go back: at once where the replica knew the outcome;
    // where a Redis reply was still due when it stopped (its command timed out on waking: did the
    // reservation run?) the reconciler gives it back once MySQL stood still for a round.
    const quietAt = performance.now();
    const leaked = invariants.stock - ((await readRedisSale(cluster.redis.url, voucherId)).stock ?? Number.NaN);
    await untilRedisStockIs(invariants.stock, voucherId);
    const repairedAfter = performance.now() - quietAt;
    process.stdout.write(
      `FAULT replica SIGSTOPped in a transaction for 5 s: others' first 201 ${Math.round(resumedAfter)} ms after the pause; ` +
        `${attempts.filter((a) => a.status === 503).length}/${attempts.length} answered 503; ` +
        `${held.length} held requests answered ${[...new Set(held.map((a) => `${a.status} ${a.code ?? ''}`))].join(', ')} after SIGCONT; ` +
        `${leaked} unit(s) left reserved, back ${Math.round(repairedAfter)} ms after the sale went quiet\n`,
    );
  });

  it('gives back the unit a replica SIGKILLed between reservation and commit had reserved, within reconciliation rounds', async () => {
    const stock = 100_000;
    const voucherId = await createSeckillVoucher(cluster.url, stock);
    const killed = cluster.replicas[1];
    const load = openLoad(cluster.url, voucherId, 200_000);
    await sleep(1000);
    await pauseInsideTransaction(cluster.mysqlUrl, killed);
    await killed.process.kill();
    await sleep(1000);
    const attempts = await load.stop();
    const stoppedAt = performance.now();

    // Right after the sale went quiet Redis is short of MySQL by the units the dead replica had
    // reserved for transactions that died with it.
    const redisStock = async () => (await readRedisSale(cluster.redis.url, voucherId)).stock ?? Number.NaN;
    const leaked = (await mysqlStock(cluster.mysqlUrl, voucherId)) - (await redisStock());
    expect(leaked).toBeGreaterThanOrEqual(1);
    await untilRedisStockIs(await mysqlStock(cluster.mysqlUrl, voucherId), voucherId);
    const repairedAfter = performance.now() - stoppedAt;

    // No 2xx for an order that is not in MySQL; requests cut off with the replica are not 2xx.
    const bought = await buyers(cluster.mysqlUrl, voucherId);
    for (const attempt of attempts.filter((a) => a.status === 201)) {
      expect(bought.get(attempt.userId)).toBe(attempt.orderId);
    }
    for (const attempt of attempts) {
      expect(attempt.status).not.toBe(500);
    }
    const invariants = await readInvariants(cluster.mysqlUrl, voucherId);
    expect(invariants.stock + invariants.orders).toBe(stock);
    expect(invariants.usersWithTwoOrders).toBe(0);
    process.stdout.write(
      `FAULT replica SIGKILLed in a transaction: ${leaked} leaked unit(s) back in Redis ${Math.round(repairedAfter)} ms after the sale went quiet ` +
        `(RECONCILE_INTERVAL_MS 2000); statuses ${[...new Set(attempts.map((a) => a.status))].join('/')}\n`,
    );
  });
});
