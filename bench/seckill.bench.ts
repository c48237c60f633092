/**
 * `npm run bench:seckill`: the flash sale's two paths side by side in one run, through nginx with 3
 * replicas on this machine (one MariaDB, one durable Redis — appendonly + appendfsync always):
 *
 *   1. no-op endpoint behind the same guards (auth + id parsing, no I/O): the ceiling
 *   2. async sale endpoint, every request a new buyer (202 + XADD each), consumers persisting meanwhile
 *   3. async sold-out answers (from memory) and the MySQL queries they cause
 *   4. a live async sale of LIVE_STOCK units: last 202 → last order in MySQL
 *   5. drain: DRAIN_ORDERS accepted orders waiting in the stream, persisted by 3 replicas' consumers
 *   6. the async sale with `appendfsync everysec` (what fsync-per-write costs), on replicas started
 *      with ORDER_DURABILITY=none
 *   7. the async sale with one admission script call per request (ORDER_ADMISSION_BATCH_MAX=1): what
 *      batching saves (req/s, and Redis CPU per order)
 *   8. sync sale endpoint (per-user lock; orders of the voucher ready together share one transaction,
 *      ORDER_SYNC_BATCH_MAX=64), every request a new buyer
 *   9. the same on Redis `appendfsync everysec`: all sync mode needs of Redis (MySQL decides every order)
 *  10. the sync sale with LOCK_MODE=local (a per-process lock: unsafe across replicas, the e2e suite's
 *      negative control): what the per-user distributed lock costs the sync sale
 *  11. the sync sale with one transaction per order (ORDER_SYNC_BATCH_MAX=1): what the group commit saves
 *
 * Env: BENCH_DURATION_S (8), BENCH_CONNECTIONS (100), BENCH_LIVE_STOCK (10000), BENCH_DRAIN (100000).
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import { SegmentIdWorker } from '../src/id-worker/id-segment.service';
import { OrderAdmissionStore } from '../src/order/async/order-admission.store';
import { createSeckillVoucher } from '../scripts/stack/api-client';
import { DEV_JWT_SECRET } from '../scripts/stack/local-stack';
import { AppReplica } from '../scripts/stack/app-replica';
import { startLocalStack, type LocalStack } from '../scripts/stack/local-stack';
import { NginxServer } from '../scripts/stack/nginx';
import { CpuMeter } from './cpu-meter';
import { WakeMeter, type WakeSample } from './wake-meter';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const LIVE_STOCK = Number(process.env.BENCH_LIVE_STOCK ?? 10_000);
const DRAIN_ORDERS = Number(process.env.BENCH_DRAIN ?? 100_000);
const REPLICAS = 3;
/** Buyers (tokens) per row: more than a row's requests, so nobody orders twice. */
const USERS = Number(process.env.BENCH_USERS ?? 120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  statuses: Map<number, number>;
  lastAcceptedAt: number;
  /** µs of CPU per request of each process group during the row (`measured`), where measured. */
  cpu?: Map<string, number>;
  /** Context switches and Redis commands per request during the row (`measured`), where measured. */
  wakes?: WakeSample;
  /** Share of the machine's cores the whole box used during the row. */
  busy?: number;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * The same HS256 tokens `tokenFor` mints (header, `sub`, `role`, `iat`, `exp`), signed with one HMAC
 * each: jsonwebtoken takes ~0.4 ms a token on this machine, too slow for 100,000s of buyers.
 */
function mintTokens(count: number, offset: number): string[] {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const iat = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const payload = base64url(JSON.stringify({ sub: String(offset + i), role: 'user', iat, exp: iat + 3600 }));
    const signature = createHmac('sha256', DEV_JWT_SECRET).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  });
}

/** Hands out a fresh buyer per request (tokens minted up front, so minting costs the run nothing). */
class Buyers {
  private next = 0;
  readonly tokens: string[];

  constructor(count: number, offset: number) {
    this.tokens = mintTokens(count, offset);
  }

  take(): string {
    return this.tokens[this.next++ % this.tokens.length];
  }
}

async function load(
  url: string,
  buyers: Buyers,
  options: { duration?: number; amount?: number } = { duration: DURATION_S },
): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  let lastAcceptedAt = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? DURATION_S }),
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${buyers.take()}` },
        }),
        onResponse: (status) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 202 || status === 201) {
            lastAcceptedAt = performance.now();
          }
        },
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, statuses, lastAcceptedAt };
}

/** 3 replicas + nginx on the stack's MariaDB and Redis. */
async function startReplicas(stack: LocalStack, env: NodeJS.ProcessEnv, tag: string) {
  const replicas = await Promise.all(
    Array.from({ length: REPLICAS }, (_, i) =>
      AppReplica.start(join(stack.root, `app-${tag}`), `app-${i + 1}`, { ...stack.env, ...env }),
    ),
  );
  const nginx = await NginxServer.start(
    join(stack.root, `nginx-${tag}`),
    replicas.map((replica) => replica.port),
  );
  return {
    url: nginx.url,
    replicas,
    nginx,
    async stop() {
      await nginx.stop();
      await Promise.all(replicas.map((replica) => replica.stop()));
    },
  };
}

/** The sum of a map's values (a row's CPU per group, its answers per status). */
const sum = (map: Map<unknown, number>) => [...map.values()].reduce((a, b) => a + b, 0);

/** What `measured` reads of a row's box: CPU, and wake-ups and Redis commands. */
interface Meters {
  cpu: CpuMeter;
  wakes: WakeMeter;
}

/** The processes of a row's box, for `measured`: what each spent per request. */
function meterFor(stack: LocalStack, cluster: { replicas: AppReplica[]; nginx: NginxServer }): Meters {
  const groups = [
    { name: 'replicas', pids: () => cluster.replicas.map((replica) => replica.process.pid) },
    { name: 'nginx', pids: () => [cluster.nginx.process.pid] },
    { name: 'Redis', pids: () => [stack.redis.process.pid] },
    { name: 'MariaDB', pids: () => [stack.mariadb?.process.pid] },
  ];
  return { cpu: new CpuMeter(groups), wakes: new WakeMeter(groups, stack.redis.url) };
}

/**
 * Runs a load and adds each process group's CPU per request, and how busy the cores were during it.
 * `settle` (e.g. until the consumers have persisted the row's orders) runs before the costs are read,
 * so work a request leaves behind counts too; "busy" is over the load alone. Wake-ups and Redis
 * commands per request likewise.
 */
async function measured(
  meters: Meters,
  run: () => Promise<LoadResult>,
  settle?: (result: LoadResult) => Promise<unknown>,
): Promise<LoadResult> {
  const wakesBefore = await meters.wakes.read();
  const before = meters.cpu.read();
  const t0 = performance.now();
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  const atEnd = meters.cpu.read();
  await settle?.(result);
  const requests = sum(result.statuses);
  const cpu = CpuMeter.perRequest(before, meters.cpu.read(), requests);
  const wakes = WakeMeter.perRequest(wakesBefore, await meters.wakes.read(), requests);
  return { ...result, cpu, wakes, busy: (sum(atEnd) - sum(before)) / seconds / cpus().length };
}

async function count(db: Connection, sql: string, args: unknown[] = []): Promise<number> {
  const [rows] = (await db.query(sql, args)) as unknown as [Record<string, string | number>[]];
  return Number(Object.values(rows[0])[0]);
}

const ordersOf = (db: Connection, voucherId: string) =>
  count(db, 'SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);

async function questions(db: Connection): Promise<number> {
  const [rows] = (await db.query("SHOW GLOBAL STATUS LIKE 'Questions'")) as unknown as [{ Value: string }[]];
  return Number(rows[0].Value);
}

async function waitForOrders(db: Connection, voucherId: string, expected: number, timeoutMs = 300_000) {
  const deadline = performance.now() + timeoutMs;
  let n = 0;
  while ((n = await ordersOf(db, voucherId)) < expected) {
    if (performance.now() > deadline) {
      throw new Error(`voucher ${voucherId}: ${n} of ${expected} orders in MySQL after ${timeoutMs} ms`);
    }
    await sleep(10);
  }
  return performance.now();
}

/**
 * A row's `settle`: until the consumers have persisted its accepted orders. Each row then starts with
 * them idle, and their work counts in the row's CPU per request.
 */
function untilPersisted(db: Connection, voucherId: string) {
  return (result: LoadResult) => waitForOrders(db, voucherId, result.statuses.get(202) ?? 0);
}

/** Fills a stream with `total` accepted orders through the admission script itself (as 202s would). */
async function fillBacklog(redisUrl: string, voucherId: string, total: number): Promise<void> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  try {
    const store = new OrderAdmissionStore(redis);
    const ids = new SegmentIdWorker(redis, () => Date.now(), 10_000);
    let next = 0;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < total) {
          const userId = String(5_000_000 + next++);
          const orderId = (await ids.nextId('order')).toString();
          const { admission } = await store.admit({ voucherId, userId, orderId, maxBacklog: 100_000_000 });
          if (admission !== 'accepted') {
            throw new Error(`backlog fill: ${admission}`);
          }
        }
      }),
    );
  } finally {
    redis.disconnect();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mix = (statuses: Map<number, number>) =>
  [...statuses]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status}×${fmt(n)}`)
    .join(' ');

const GROUPS = ['replicas', 'nginx', 'Redis', 'MariaDB', 'load generator'];

/** Where each row's CPU went, per request, and how busy the machine's cores were. */
function cpuTable(rows: { name: string; result: LoadResult }[]): string[] {
  const us = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));
  return [
    `CPU per request (µs, user + system, from /proc; the load generator is this process):`,
    '',
    `| row | ${GROUPS.join(' | ')} | total | cores busy |`,
    `|---|${GROUPS.map(() => '---:').join('|')}|---:|---:|`,
    ...rows
      .filter(({ result }) => result.cpu)
      .map(({ name, result }) => {
        const cells = GROUPS.map((group) => us(result.cpu!.get(group)));
        return `| ${name} | ${cells.join(' | ')} | ${us(sum(result.cpu!))} | ${((result.busy ?? 0) * 100).toFixed(0)} % |`;
      }),
  ];
}

const WAKE_COLUMNS = [
  'replicas sleeps',
  'replicas preempted',
  'Redis sleeps',
  'MariaDB sleeps',
  'Redis commands',
  'Redis script calls',
] as const;

function wakeTable(rows: { name: string; result: LoadResult }[]): string[] {
  return [
    'Wake-ups and Redis commands per request (context switches from /proc: a sleep is a process waiting ' +
      'for I/O, so each is one wake-up; preempted = taken off a core with work left; commands from INFO commandstats, ' +
      'a script call counting once as EVALSHA and once per command it runs):',
    '',
    `| row | ${WAKE_COLUMNS.join(' | ')} |`,
    `|---|${WAKE_COLUMNS.map(() => '---:').join('|')}|`,
    ...rows
      .filter(({ result }) => result.wakes)
      .map(
        ({ name, result }) =>
          `| ${name} | ${WAKE_COLUMNS.map((column) => (result.wakes!.get(column) ?? 0).toFixed(2)).join(' | ')} |`,
      ),
  ];
}

/**
 * With every core busy, req/s is the cores' µs over the µs a request costs the whole box. So even if
 * the sale cost the replicas, nginx and the load generator nothing more than the no-op does, the async
 * row would still pay Redis' and MariaDB's work for each order on the same cores: that bounds the
 * ratio from above, whatever the replica's code does.
 */
function ceilingNote(noop: LoadResult, sale: LoadResult): string {
  const servers = (cpu: Map<string, number>) => (cpu.get('Redis') ?? 0) + (cpu.get('MariaDB') ?? 0);
  const noopUs = sum(noop.cpu!);
  const floorUs = noopUs + servers(sale.cpu!) - servers(noop.cpu!);
  const actual = noop.busy && sale.busy ? (noopUs * sale.busy) / (sum(sale.cpu!) * noop.busy) : 0;
  return (
    `CPU bound: the no-op costs the box ${noopUs.toFixed(0)} µs a request, the async sale ` +
    `${sum(sale.cpu!).toFixed(0)} µs (CPU-predicted ratio ${actual.toFixed(2)}×); with the replicas, nginx and ` +
    `the load generator paying nothing for the sale, Redis and MariaDB alone would hold the ratio to ` +
    `${(noopUs / floorUs).toFixed(2)}× on these ${cpus().length} cores.`
  );
}

async function main(): Promise<void> {
  const stack = await startLocalStack({ replicas: 0, env: { LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_SECOND: '0' } });
  const db = await createConnection({ uri: stack.mysqlUrl });
  const redis = new Redis(stack.redis.url);
  const rows: { name: string; result: LoadResult }[] = [];
  const notes: string[] = [];
  try {
    // Every row gets buyers (and so tokens) never seen before: the same JWT-verification cost for all.
    let offset = 1_000_000;
    const fresh = () => {
      const buyers = new Buyers(USERS, offset);
      offset += USERS;
      return buyers;
    };
    let buyers = fresh();
    const asyncCluster = await startReplicas(
      stack,
      { ORDER_MODE: 'async', BENCH_NOOP_ROUTE: 'true', ORDER_MAX_BACKLOG: '100000000' },
      'async',
    );
    const meter = meterFor(stack, asyncCluster);
    try {
      const url = asyncCluster.url;
      process.stdout.write('no-op endpoint…\n');
      rows.push({
        name: 'no-op endpoint (same auth + id parsing, no I/O)',
        result: await measured(meter, () => load(`${url}/bench/noop/1`, buyers)),
      });

      process.stdout.write('async sale…\n');
      buyers = fresh();
      const big = await createSeckillVoucher(url, 10_000_000);
      const asyncSale = await measured(
        meter,
        () => load(`${url}/voucher-order/seckill/${big}`, buyers),
        untilPersisted(db, big),
      );
      rows.push({ name: 'async sale, new buyer per request (202)', result: asyncSale });

      process.stdout.write('sold-out answers…\n');
      const one = await createSeckillVoucher(url, 1);
      await load(`${url}/voucher-order/seckill/${one}`, buyers, { amount: CONNECTIONS });
      await sleep(1500); // let the background refreshes settle
      buyers = fresh();
      const q0 = await questions(db);
      const t0 = performance.now();
      const soldOut = await measured(meter, () => load(`${url}/voucher-order/seckill/${one}`, buyers));
      const q1 = await questions(db);
      const soldOutSeconds = (performance.now() - t0) / 1000;
      rows.push({ name: 'async sold-out answers (409 from memory)', result: soldOut });
      const soldOutRequests = sum(soldOut.statuses);
      notes.push(
        `Sold out: ${fmt(soldOutRequests)} answers caused ${fmt(q1 - q0 - 1)} MySQL queries in ${soldOutSeconds.toFixed(1)} s ` +
          `(the replicas' once-a-second sale-list refresh; none per request).`,
      );

      process.stdout.write('live sale…\n');
      buyers = fresh();
      const live = await createSeckillVoucher(url, LIVE_STOCK);
      // Watched from the start: the last order usually reaches MySQL while the sale is still
      // answering its last (sold-out) requests, so polling only after the load would report when the
      // load ended, not when the order landed.
      const inMysql = waitForOrders(db, live, LIVE_STOCK);
      inMysql.catch(() => undefined); // awaited below; a failed load must not leave it unhandled
      const liveResult = await load(`${url}/voucher-order/seckill/${live}`, buyers, {
        amount: Math.round(LIVE_STOCK * 1.2),
      });
      const lastInMysql = await inMysql;
      rows.push({ name: `live async sale of ${fmt(LIVE_STOCK)} units`, result: liveResult });
      notes.push(
        `Live sale: last 202 → last of ${fmt(LIVE_STOCK)} orders in MySQL: ${fmt(lastInMysql - liveResult.lastAcceptedAt)} ms.`,
      );

      process.stdout.write(`drain of ${fmt(DRAIN_ORDERS)}…\n`);
      const drain = await createSeckillVoucher(url, DRAIN_ORDERS);
      // Consumers paused while the backlog is written, then let go all at once.
      asyncCluster.replicas.forEach((replica) => replica.process.pause());
      await fillBacklog(stack.redis.url, drain, DRAIN_ORDERS);
      const drainStart = performance.now();
      asyncCluster.replicas.forEach((replica) => replica.process.resume());
      const drainEnd = await waitForOrders(db, drain, DRAIN_ORDERS);
      const drainSeconds = (drainEnd - drainStart) / 1000;
      notes.push(
        `Drain: ${fmt(DRAIN_ORDERS)} accepted orders persisted by ${REPLICAS} replicas in ${drainSeconds.toFixed(2)} s = ` +
          `${fmt(DRAIN_ORDERS / drainSeconds)} orders/s.`,
      );
      const [[stockRow]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
        drain,
      ])) as unknown as [[{ stock: number }]];
      if (stockRow.stock !== 0) {
        throw new Error(`drain voucher stock is ${stockRow.stock}, expected 0`);
      }
    } finally {
      await asyncCluster.stop();
    }

    // What fsync-per-write costs: the same admission with Redis at `appendfsync everysec`, on
    // replicas started with ORDER_DURABILITY=none (the others would refuse such a Redis: 503).
    process.stdout.write('async sale, appendfsync everysec…\n');
    await redis.config('SET', 'appendfsync', 'everysec');
    const everysecCluster = await startReplicas(
      stack,
      { ORDER_MODE: 'async', ORDER_DURABILITY: 'none', ORDER_MAX_BACKLOG: '100000000' },
      'everysec',
    );
    try {
      buyers = fresh();
      const big2 = await createSeckillVoucher(everysecCluster.url, 10_000_000);
      const everysec = await measured(
        meterFor(stack, everysecCluster),
        () => load(`${everysecCluster.url}/voucher-order/seckill/${big2}`, buyers),
        untilPersisted(db, big2),
      );
      rows.push({ name: 'async sale, Redis appendfsync everysec (not durable; for the cost)', result: everysec });
    } finally {
      await everysecCluster.stop();
      await redis.config('SET', 'appendfsync', 'always');
    }

    // What batching admissions saves: the same sale with one admission script call per request.
    process.stdout.write('async sale, one script call per request…\n');
    const unbatchedCluster = await startReplicas(
      stack,
      { ORDER_MODE: 'async', ORDER_MAX_BACKLOG: '100000000', ORDER_ADMISSION_BATCH_MAX: '1' },
      'unbatched',
    );
    try {
      buyers = fresh();
      const big3 = await createSeckillVoucher(unbatchedCluster.url, 10_000_000);
      const unbatched = await measured(
        meterFor(stack, unbatchedCluster),
        () => load(`${unbatchedCluster.url}/voucher-order/seckill/${big3}`, buyers),
        untilPersisted(db, big3),
      );
      rows.push({
        name: 'async sale, one admission script call per request (ORDER_ADMISSION_BATCH_MAX=1)',
        result: unbatched,
      });
      const batchedUs = rows.find((row) => row.name.startsWith('async sale, new'))!.result.cpu!.get('Redis')!;
      const unbatchedUs = unbatched.cpu!.get('Redis')!;
      notes.push(
        `Redis CPU per admitted order: batched ${batchedUs.toFixed(1)} µs, one call per request ` +
          `${unbatchedUs.toFixed(1)} µs (${(batchedUs / unbatchedUs).toFixed(2)}×).`,
      );
    } finally {
      await unbatchedCluster.stop();
    }

    /** A sync sale row on replicas of its own, started with `env` (ORDER_MODE=sync beneath it). */
    const syncRow = async (progress: string, name: string, env: NodeJS.ProcessEnv, tag: string) => {
      process.stdout.write(`${progress}…\n`);
      const cluster = await startReplicas(stack, { ORDER_MODE: 'sync', ...env }, tag);
      try {
        const big = await createSeckillVoucher(cluster.url, 10_000_000);
        buyers = fresh();
        rows.push({
          name,
          result: await measured(meterFor(stack, cluster), () =>
            load(`${cluster.url}/voucher-order/seckill/${big}`, buyers),
          ),
        });
      } finally {
        await cluster.stop();
      }
    };
    await syncRow('sync sale', 'sync sale, new buyer per request (201), group commit', {}, 'sync');
    // The same sale on the Redis persistence sync mode needs: MySQL decides every order, so Redis need
    // not fsync each write (see ARCHITECTURE.md, "What each mode needs of Redis"); the row above runs
    // on the async path's `appendfsync always`, where every Redis round trip of the order waits for a disk flush.
    await redis.config('SET', 'appendfsync', 'everysec');
    try {
      await syncRow(
        'sync sale, appendfsync everysec',
        'sync sale, Redis appendfsync everysec (all sync mode needs: MySQL decides)',
        {},
        'sync-everysec',
      );
    } finally {
      await redis.config('SET', 'appendfsync', 'always');
    }
    // What the per-user distributed lock costs the sync sale: the same row with LOCK_MODE=local (a
    // per-process lock, no Redis round trip: the e2e suite's negative control, not safe across replicas).
    await syncRow(
      'sync sale, per-process lock',
      'sync sale, per-process lock (LOCK_MODE=local; unsafe across replicas, for the cost of the distributed lock)',
      { LOCK_MODE: 'local' },
      'sync-local',
    );
    await syncRow(
      'sync sale, one transaction per order',
      'sync sale, one transaction per order (ORDER_SYNC_BATCH_MAX=1)',
      { ORDER_SYNC_BATCH_MAX: '1' },
      'sync-single',
    );

    const noop = rows[0].result.rps;
    const byName = (prefix: string) => rows.find((row) => row.name.startsWith(prefix))!.result;
    const lines = [
      '',
      `Seckill benchmark — ${DURATION_S} s per row, ${CONNECTIONS} connections, ${REPLICAS} replicas behind nginx, ` +
        `autocannon on the same ${cpus().length}-core machine, Node ${process.version}`,
      '',
      '| row | req/s | p50 ms | p99 ms | vs no-op | statuses |',
      '|---|---:|---:|---:|---:|---|',
      ...rows.map(
        ({ name, result }) =>
          `| ${name} | ${fmt(result.rps)} | ${result.p50} | ${result.p99} | ${(result.rps / noop).toFixed(2)}× | ${mix(result.statuses)} |`,
      ),
      '',
      ...cpuTable(rows),
      '',
      ...wakeTable(rows),
      '',
      ...notes,
      ceilingNote(rows[0].result, byName('async sale, new')),
      `Ratios: async/no-op ${(byName('async sale, new').rps / noop).toFixed(2)}×; sync/async ${(
        byName('sync sale, new').rps / byName('async sale, new').rps
      ).toFixed(2)}×; sync on appendfsync everysec/async ${(
        byName('sync sale, Redis appendfsync').rps / byName('async sale, new').rps
      ).toFixed(2)}×; sync with the per-process lock/async ${(
        byName('sync sale, per-process').rps / byName('async sale, new').rps
      ).toFixed(2)}×; group commit/one transaction per order ${(
        byName('sync sale, new').rps / byName('sync sale, one').rps
      ).toFixed(2)}×; appendfsync always/everysec ${(
        byName('async sale, new').rps / byName('async sale, Redis').rps
      ).toFixed(2)}×; batched/one call per request ${(
        byName('async sale, new').rps / byName('async sale, one').rps
      ).toFixed(2)}×`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    redis.disconnect();
    await db.end();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
