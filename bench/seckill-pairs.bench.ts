/**
 * `npm run bench:seckill:pairs`: two (or more) cluster configurations of the sale measured in
 * interleaved rows on one stack, for a ratio this VM's drift does not decide. `bench:seckill` measures
 * each row once, minutes apart, and the machine's speed moves by up to 2× between 8 s rows; here every
 * cluster is started and warmed first (BENCH_WARMUP_S each), then each round runs one row
 * (BENCH_DURATION_S) per cluster, the order reversed every round, and the ratio is reported per round.
 *
 * Default: the sync sale against the async admission (issue #24's ratio). BENCH_PAIRS takes other
 * configurations as JSON, name → environment of its replicas (e.g. `{"new":{},"old":{"LOCK_MODE":"local"}}`);
 * the first two are the ratio's numerator and denominator.
 *
 * Env: BENCH_PAIRS, BENCH_ROUNDS (6), BENCH_DURATION_S (8), BENCH_WARMUP_S (30), BENCH_CONNECTIONS (100).
 */
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { startLocalStack } from '../scripts/stack/local-stack';
import { startReplicas, sum } from './seckill-box';
import { CONNECTIONS, DURATION_S, freshBuyers, type LoadResult } from './seckill-load';
import { fmt } from './seckill-report';
import { combined, interleavedRounds, mean, median, ratiosOf, type RoundsEntry } from './seckill-rounds';

const DEFAULT_PAIRS: Record<string, NodeJS.ProcessEnv> = {
  'sync sale (201)': { ORDER_MODE: 'sync' },
  'async sale (202)': { ORDER_MODE: 'async', ORDER_MAX_BACKLOG: '100000000' },
};
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

async function main(): Promise<void> {
  const configs: Record<string, NodeJS.ProcessEnv> = process.env.BENCH_PAIRS
    ? (JSON.parse(process.env.BENCH_PAIRS) as Record<string, NodeJS.ProcessEnv>)
    : DEFAULT_PAIRS;
  const names = Object.keys(configs);
  if (names.length < 2) {
    throw new Error(`BENCH_PAIRS names ${names.length} configuration(s); the ratio needs two or more`);
  }
  const stack = await startLocalStack({ replicas: 0, env: { LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_SECOND: '0' } });
  const redis = new Redis(stack.redis.url);
  const db = await createConnection({ uri: stack.mysqlUrl });
  // An async row's cost includes its consumers persisting its orders, as in bench:seckill.
  const isAsync = (name: string) => (configs[name].ORDER_MODE ?? process.env.ORDER_MODE) === 'async';
  const entries: RoundsEntry[] = [];
  let results: Map<string, LoadResult[]>;
  try {
    for (const [i, name] of names.entries()) {
      entries.push({ name, cluster: await startReplicas(stack, configs[name], `pair-${i}`), async: isAsync(name) });
    }
    results = await interleavedRounds({ stack, db, redis, entries, rounds: ROUNDS, fresh: freshBuyers() });
  } finally {
    await Promise.all(entries.map((entry) => entry.cluster.stop().catch(() => undefined)));
    redis.disconnect();
    await db.end();
    await stack.stop();
  }
  const [top, bottom] = names;
  const ratios = ratiosOf(results.get(top)!, results.get(bottom)!);
  const lines = [
    '',
    `Interleaved rows — ${ROUNDS} rounds of ${DURATION_S} s per configuration, ${CONNECTIONS} connections, ` +
      `3 replicas behind nginx each`,
    '',
    '| configuration | req/s per round | mean req/s | mean p99 ms | replicas µs | Redis µs | MariaDB µs | box µs |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...names.map((name) => {
      const rows = results.get(name)!;
      const all = combined(rows);
      const cpu = (group: string) => fmt(all.cpu!.get(group)!);
      return (
        `| ${name} | ${rows.map((row) => fmt(row.rps)).join(', ')} | ${fmt(all.rps)} | ` +
        `${fmt(mean(rows.map((row) => row.p99)))} | ${cpu('replicas')} | ${cpu('Redis')} | ${cpu('MariaDB')} | ` +
        `${fmt(sum(all.cpu!))} |`
      );
    }),
    '',
    `Ratio ${top} / ${bottom} per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}; ` +
      `median ${median(ratios).toFixed(2)}×, lowest ${Math.min(...ratios).toFixed(2)}×`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
