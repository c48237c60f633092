/**
 * `npm run bench:lifecycle`: the sale's second half on this machine, 3 replicas behind nginx (one
 * MariaDB, one durable Redis), in one run:
 *
 *   1. async admission (POST /voucher-order/seckill/:id, a new buyer per request): the reference row
 *   2. pay (POST /voucher-order/:id/pay), each request a different unpaid order of its own buyer —
 *      the orders row 1 placed
 *   3. expiry: EXPIRE_ORDERS unpaid orders falling due at the same instant, cancelled by the three
 *      replicas' sweeps; cancellations/s, lateness p50/p99 (cancel_time − pay_deadline, both by the
 *      database's clock) and when the last unit was back in Redis
 *
 * Env: BENCH_DURATION_S (8), BENCH_CONNECTIONS (100), BENCH_EXPIRE (100000).
 */
import { createHmac } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import { seckillKeys } from '../src/voucher/seckill-keys';
import { createSeckillVoucher } from '../scripts/stack/api-client';
import { AppReplica } from '../scripts/stack/app-replica';
import { DEV_JWT_SECRET, startLocalStack } from '../scripts/stack/local-stack';
import { NginxServer } from '../scripts/stack/nginx';
import { fmt, percentile } from './bench-stats';
import { CpuMeter } from './cpu-meter';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const EXPIRE_ORDERS = Number(process.env.BENCH_EXPIRE ?? 100_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** HS256 tokens as `tokenFor` mints them, one HMAC each (jsonwebtoken is too slow for 100,000s). */
function token(sub: string): string {
  const b64 = (value: string) => Buffer.from(value).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ sub, role: 'user', iat, exp: iat + 3600 }))}`;
  return `${head}.${createHmac('sha256', DEV_JWT_SECRET).update(head).digest('base64url')}`;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  statuses: Map<number, number>;
  /** µs of CPU per request of each process group during the row. */
  cpu?: Map<string, number>;
}

async function load(
  name: string,
  url: string,
  next: () => { path: string; token: string; body?: string },
): Promise<Row> {
  const statuses = new Map<number, number>();
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (request) => {
          const call = next();
          return {
            ...request,
            path: call.path,
            headers: {
              ...request.headers,
              authorization: `Bearer ${call.token}`,
              ...(call.body ? { 'content-type': 'application/json' } : {}),
            },
            body: call.body,
          };
        },
        onResponse: (status) => void statuses.set(status, (statuses.get(status) ?? 0) + 1),
      },
    ],
  });
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

async function scalar(db: Connection, sql: string, args: unknown[] = []): Promise<number> {
  const [rows] = (await db.query(sql, args)) as unknown as [Record<string, string | number>[]];
  return Number(Object.values(rows[0])[0]);
}

/** EXPIRE_ORDERS unpaid orders of fresh users for one voucher, due far in the future. */
async function insertUnpaid(db: Connection, voucherId: string): Promise<void> {
  const chunk = 5000;
  for (let done = 0; done < EXPIRE_ORDERS; done += chunk) {
    const rows = Array.from({ length: Math.min(chunk, EXPIRE_ORDERS - done) }, (_, i) => {
      const n = 900_000_000 + done + i;
      return `(${n}, ${n}, ${voucherId}, NOW(3) + INTERVAL 1 DAY)`;
    });
    await db.query(`INSERT INTO tb_voucher_order (id, user_id, voucher_id, pay_deadline) VALUES ${rows.join(', ')}`);
  }
}

async function main(): Promise<void> {
  const stack = await startLocalStack({ replicas: 0, env: { LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_SECOND: '0' } });
  const env = {
    ...stack.env,
    ORDER_MODE: 'async',
    ORDER_MAX_BACKLOG: '100000000',
    // Orders placed by the admission row stay unpaid (and payable) for the whole run.
    ORDER_PAYMENT_TIMEOUT_MS: String(24 * 3600 * 1000),
    ORDER_EXPIRY_SCAN_INTERVAL_MS: '250',
  };
  const replicas = await Promise.all([1, 2, 3].map((i) => AppReplica.start(join(stack.root, 'app'), `app-${i}`, env)));
  const nginx = await NginxServer.start(
    join(stack.root, 'nginx'),
    replicas.map((replica) => replica.port),
  );
  const db = await createConnection({ uri: stack.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  const redis = new Redis(stack.redis.url);
  try {
    const url = nginx.url;
    const meter = new CpuMeter([
      { name: 'replicas', pids: () => replicas.map((replica) => replica.process.pid) },
      { name: 'nginx', pids: () => [nginx.process.pid] },
      { name: 'Redis', pids: () => [stack.redis.process.pid] },
      { name: 'MariaDB', pids: () => [stack.mariadb?.process.pid] },
    ]);
    const measured = async (run: () => Promise<Row>, settle?: (row: Row) => Promise<void>): Promise<Row> => {
      const before = meter.read();
      const row = await run();
      await settle?.(row);
      const requests = [...row.statuses.values()].reduce((a, b) => a + b, 0);
      return { ...row, cpu: CpuMeter.perRequest(before, meter.read(), requests) };
    };
    process.stdout.write('async admission…\n');
    const sale = await createSeckillVoucher(url, 10_000_000);
    let buyer = 1_000_000;
    const admission = await measured(
      () =>
        load('async admission (202), new buyer per request', url, () => ({
          path: `/voucher-order/seckill/${sale}`,
          token: token(String(buyer++)),
        })),
      // Until the consumers persisted the row's orders: their work counts in its CPU per request.
      async (row) => {
        while (
          (await scalar(db, 'SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?', [sale])) <
          (row.statuses.get(202) ?? 0)
        ) {
          await sleep(100);
        }
      },
    );

    process.stdout.write('pay…\n');
    const [orders] = (await db.query('SELECT id, user_id AS userId FROM tb_voucher_order WHERE voucher_id = ?', [
      sale,
    ])) as unknown as [{ id: string; userId: string }[]];
    const calls = orders.map((order) => ({
      path: `/voucher-order/${order.id}/pay`,
      token: token(String(order.userId)),
      body: '{"payType":1}',
    }));
    let nextPay = 0;
    // More requests than orders would pay some twice (answered 200, unchanged): still a pay request.
    const pay = await measured(() =>
      load('pay (200), a different unpaid order per request', url, () => calls[nextPay++ % calls.length]),
    );

    process.stdout.write(`expiry of ${fmt(EXPIRE_ORDERS)} orders…\n`);
    const lapsing = await createSeckillVoucher(url, 1);
    await insertUnpaid(db, lapsing);
    const returnedBefore = await redis.scard(seckillKeys(lapsing).returned);
    const t0 = performance.now();
    await db.query('UPDATE tb_voucher_order SET pay_deadline = NOW(3) WHERE voucher_id = ?', [lapsing]);
    const dueAt = performance.now();
    while (
      (await scalar(db, 'SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ? AND status = 1', [lapsing])) > 0
    ) {
      await sleep(20);
    }
    const allCancelled = performance.now();
    while ((await redis.scard(seckillKeys(lapsing).returned)) - returnedBefore < EXPIRE_ORDERS) {
      await sleep(20);
    }
    const allReturned = performance.now();
    const [late] = (await db.query(
      'SELECT TIMESTAMPDIFF(MICROSECOND, pay_deadline, cancel_time) AS us FROM tb_voucher_order WHERE voucher_id = ?',
      [lapsing],
    )) as unknown as [{ us: string }[]];
    const lateness = late.map((row) => Number(row.us) / 1000).sort((a, b) => a - b);
    const [first] = lateness;
    const expirySeconds = (lateness[lateness.length - 1] - first) / 1000;

    const lines = [
      `bench:lifecycle — ${new Date().toISOString().slice(0, 10)}, 3 replicas behind nginx, ${CONNECTIONS} connections, ` +
        `${DURATION_S} s per row, ${cpus().length} cores, Node ${process.version}`,
      '',
      '| row | req/s | p50 ms | p99 ms | answers | CPU µs/request: replicas, nginx, Redis, MariaDB |',
      '|---|---:|---:|---:|---|---|',
      ...[admission, pay].map(
        (row) =>
          `| ${row.name} | ${fmt(row.rps)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${[...row.statuses]
            .map(([status, n]) => `${status}×${fmt(n)}`)
            .join(
              ' ',
            )} | ${['replicas', 'nginx', 'Redis', 'MariaDB'].map((group) => fmt(row.cpu?.get(group) ?? NaN)).join(', ')} |`,
      ),
      '',
      `pay / admission: ${(pay.rps / admission.rps).toFixed(2)}×`,
      '',
      `Expiry: ${fmt(EXPIRE_ORDERS)} unpaid orders due at once (UPDATE took ${fmt(dueAt - t0)} ms) → all cancelled ` +
        `${fmt((allCancelled - dueAt) / 1000, 2)} s after, ` +
        `${fmt(EXPIRE_ORDERS / Math.max(expirySeconds, 0.001))} cancellations/s between the first and the last cancel_time ` +
        `(${fmt(EXPIRE_ORDERS / ((allCancelled - dueAt) / 1000))} /s wall clock, polled every 20 ms); ` +
        `lateness p50 ${fmt(percentile(lateness, 50))} ms, p99 ${fmt(percentile(lateness, 99))} ms, ` +
        `max ${fmt(lateness[lateness.length - 1])} ms; every unit back in Redis ${fmt((allReturned - dueAt) / 1000, 2)} s after.`,
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    redis.disconnect();
    await db.end();
    await nginx.stop();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
