/**
 * `npm run bench:seckill`: the flash sale's two paths side by side in one run, through nginx with 3
 * replicas on this machine (one MariaDB, one durable Redis — appendonly + appendfsync always):
 *
 *   1. no-op endpoint behind the same guards (auth + id parsing, no I/O): the ceiling
 *   2. async sale endpoint, every request a new buyer (202 + XADD each), consumers persisting meanwhile:
 *      measured in BENCH_HEADLINE_ROUNDS rounds interleaved with row 8's (see below)
 *   3. async sold-out answers (from memory) and the MySQL queries they cause
 *   4. a live async sale of LIVE_STOCK units: last 202 → last order in MySQL
 *   5. drain: DRAIN_ORDERS accepted orders waiting in the stream, persisted by 3 replicas' consumers
 *   6. the async sale with `appendfsync everysec` (what fsync-per-write costs), on replicas started
 *      with ORDER_DURABILITY=none
 *   7. the async sale with one admission script call per request (ORDER_ADMISSION_BATCH_MAX=1): what
 *      batching saves (req/s, and Redis CPU per order)
 *   8. sync sale endpoint (per-user lock; orders of the voucher ready together share one transaction,
 *      ORDER_SYNC_BATCH_MAX=64), every request a new buyer: in rounds interleaved with row 2's, the
 *      order reversed every round, so that the sync/async ratio (the median of the rounds' ratios) is
 *      taken between rows seconds apart; this VM's speed drifts by up to 2× between rows minutes apart
 *   9. the same on Redis `appendfsync everysec`: all sync mode needs of Redis (MySQL decides every order)
 *  10. the sync sale with LOCK_MODE=local (a per-process lock: unsafe across replicas, the e2e suite's
 *      negative control): what the per-user distributed lock costs the sync sale
 *  11. the sync sale with one transaction per order (ORDER_SYNC_BATCH_MAX=1): what the group commit saves
 *
 * Every row's replicas first serve an unmeasured warm-up (BENCH_WARMUP_S) on a sale of its own, so that
 * no row is measured on cold JIT, cold pools and cold connections while another was measured warm.
 *
 * Longer than 250 lines on purpose: `main` lists every row in run order, one place to read the run;
 * its pieces live in seckill-load.ts, seckill-box.ts, seckill-db.ts and seckill-report.ts.
 *
 * Env: BENCH_DURATION_S (8), BENCH_WARMUP_S (30), BENCH_CONNECTIONS (100), BENCH_LIVE_STOCK (10000),
 * BENCH_DRAIN (100000), BENCH_HEADLINE_ROUNDS (4).
 */
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { createSeckillVoucher } from '../scripts/stack/api-client';
import { startLocalStack } from '../scripts/stack/local-stack';
import { measured, meterFor, REPLICAS, startReplicas, sum } from './seckill-box';
import { questions, sleep, untilPersisted, waitForOrders, fillBacklog } from './seckill-db';
import { CONNECTIONS, DURATION_S, freshBuyers, load, warmUp, type LoadResult } from './seckill-load';
import { ceilingNote, cpuTable, fmt, mix, wakeTable } from './seckill-report';
import { combined, interleavedRounds, median, ratiosOf, roundsLine } from './seckill-rounds';

const LIVE_STOCK = Number(process.env.BENCH_LIVE_STOCK ?? 10_000);
const DRAIN_ORDERS = Number(process.env.BENCH_DRAIN ?? 100_000);
const HEADLINE_ROUNDS = Number(process.env.BENCH_HEADLINE_ROUNDS ?? 4);
const ASYNC_SALE = 'async sale, new buyer per request (202)';
const SYNC_SALE = 'sync sale, new buyer per request (201), group commit';

async function main(): Promise<void> {
  const stack = await startLocalStack({ replicas: 0, env: { LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_SECOND: '0' } });
  const db = await createConnection({ uri: stack.mysqlUrl });
  const redis = new Redis(stack.redis.url);
  const rows: { name: string; result: LoadResult }[] = [];
  const notes: string[] = [];
  /** The headline pair's rounds: the async and the sync sale, interleaved. */
  let headline = new Map<string, LoadResult[]>();
  try {
    // Every row gets buyers (and so tokens) never seen before: the same JWT-verification cost for all.
    const fresh = freshBuyers();
    let buyers = fresh();
    /** Settles an async warm-up: its orders persisted before the measured row starts. */
    const persisted = (voucherId: string, result: LoadResult) => untilPersisted(db, voucherId)(result);

    /**
     * A row on replicas of its own (started with `env`), a new 10,000,000-unit sale and new buyers;
     * `persisted`: its cost includes the consumers persisting its orders (async).
     */
    const clusterRow = async (row: {
      progress: string;
      name: string;
      env: NodeJS.ProcessEnv;
      tag: string;
      persisted?: boolean;
    }): Promise<LoadResult> => {
      process.stdout.write(`${row.progress}…\n`);
      const cluster = await startReplicas(stack, row.env, row.tag);
      try {
        await warmUp(cluster.url, fresh, row.persisted ? persisted : undefined);
        const voucherId = await createSeckillVoucher(cluster.url, 10_000_000);
        const rowBuyers = fresh();
        const result = await measured(
          meterFor(stack, cluster, redis),
          () => load(`${cluster.url}/voucher-order/seckill/${voucherId}`, rowBuyers),
          row.persisted ? untilPersisted(db, voucherId) : undefined,
        );
        rows.push({ name: row.name, result });
        return result;
      } finally {
        await cluster.stop();
      }
    };
    /** Runs `fn` with Redis at `appendfsync everysec`, then back at `always` (what the async rows need). */
    const withEverysec = async <T>(fn: () => Promise<T>): Promise<T> => {
      await redis.config('SET', 'appendfsync', 'everysec');
      try {
        return await fn();
      } finally {
        await redis.config('SET', 'appendfsync', 'always');
      }
    };
    const asyncCluster = await startReplicas(
      stack,
      { ORDER_MODE: 'async', BENCH_NOOP_ROUTE: 'true', ORDER_MAX_BACKLOG: '100000000' },
      'async',
    );
    const meter = meterFor(stack, asyncCluster, redis);
    try {
      const url = asyncCluster.url;
      // The headline pair first: the async and the sync sale, warmed, then in interleaved rounds.
      process.stdout.write(`async and sync sale, ${HEADLINE_ROUNDS} interleaved rounds…\n`);
      const syncCluster = await startReplicas(stack, { ORDER_MODE: 'sync' }, 'sync');
      try {
        headline = await interleavedRounds({
          stack,
          db,
          redis,
          entries: [
            { name: SYNC_SALE, cluster: syncCluster, async: false },
            { name: ASYNC_SALE, cluster: asyncCluster, async: true },
          ],
          rounds: HEADLINE_ROUNDS,
          fresh,
        });
      } finally {
        await syncCluster.stop();
      }
      const ratios = ratiosOf(headline.get(SYNC_SALE)!, headline.get(ASYNC_SALE)!);
      notes.push(
        `Sync/async in ${HEADLINE_ROUNDS} interleaved rounds: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}; ` +
          `median ${median(ratios).toFixed(2)}×, lowest ${Math.min(...ratios).toFixed(2)}×.`,
        roundsLine(ASYNC_SALE, headline.get(ASYNC_SALE)!),
        roundsLine(SYNC_SALE, headline.get(SYNC_SALE)!),
      );
      process.stdout.write('no-op endpoint…\n');
      rows.push({
        name: 'no-op endpoint (same auth + id parsing, no I/O)',
        result: await measured(meter, () => load(`${url}/bench/noop/1`, buyers)),
      });

      rows.push({ name: ASYNC_SALE, result: combined(headline.get(ASYNC_SALE)!) });
      rows.push({ name: SYNC_SALE, result: combined(headline.get(SYNC_SALE)!) });

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
    await withEverysec(() =>
      clusterRow({
        progress: 'async sale, appendfsync everysec',
        name: 'async sale, Redis appendfsync everysec (not durable; for the cost)',
        env: { ORDER_MODE: 'async', ORDER_DURABILITY: 'none', ORDER_MAX_BACKLOG: '100000000' },
        tag: 'everysec',
        persisted: true,
      }),
    );

    // What batching admissions saves: the same sale with one admission script call per request.
    const unbatched = await clusterRow({
      progress: 'async sale, one script call per request',
      name: 'async sale, one admission script call per request (ORDER_ADMISSION_BATCH_MAX=1)',
      env: { ORDER_MODE: 'async', ORDER_MAX_BACKLOG: '100000000', ORDER_ADMISSION_BATCH_MAX: '1' },
      tag: 'unbatched',
      persisted: true,
    });
    const batchedUs = rows.find((row) => row.name.startsWith('async sale, new'))!.result.cpu!.get('Redis')!;
    const unbatchedUs = unbatched.cpu!.get('Redis')!;
    notes.push(
      `Redis CPU per admitted order: batched ${batchedUs.toFixed(1)} µs, one call per request ` +
        `${unbatchedUs.toFixed(1)} µs (${(batchedUs / unbatchedUs).toFixed(2)}×).`,
    );

    // The same sale on the Redis persistence sync mode needs: MySQL decides every order, so Redis need
    // not fsync each write (see ARCHITECTURE.md, "What each mode needs of Redis"); the headline sync row runs
    // on the async path's `appendfsync always`, where every Redis round trip of the order waits for a disk flush.
    await withEverysec(() =>
      clusterRow({
        progress: 'sync sale, appendfsync everysec',
        name: 'sync sale, Redis appendfsync everysec (all sync mode needs: MySQL decides)',
        env: { ORDER_MODE: 'sync' },
        tag: 'sync-everysec',
      }),
    );
    // What the per-user distributed lock costs the sync sale: the same row with LOCK_MODE=local (a
    // per-process lock, no Redis round trip: the e2e suite's negative control, not safe across replicas).
    await clusterRow({
      progress: 'sync sale, per-process lock',
      name: 'sync sale, per-process lock (LOCK_MODE=local; unsafe across replicas, for the cost of the distributed lock)',
      env: { ORDER_MODE: 'sync', LOCK_MODE: 'local' },
      tag: 'sync-local',
    });
    await clusterRow({
      progress: 'sync sale, one transaction per order',
      name: 'sync sale, one transaction per order (ORDER_SYNC_BATCH_MAX=1)',
      env: { ORDER_MODE: 'sync', ORDER_SYNC_BATCH_MAX: '1' },
      tag: 'sync-single',
    });

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
      `Ratios: async/no-op ${(byName('async sale, new').rps / noop).toFixed(2)}×; sync/async ${median(
        ratiosOf(headline.get(SYNC_SALE)!, headline.get(ASYNC_SALE)!),
      ).toFixed(2)}× (median of the interleaved rounds); sync on appendfsync everysec/async ${(
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
