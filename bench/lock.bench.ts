/**
 * `npm run bench:lock` — our reentrant lock vs the minimal SET NX lock vs redis-semaphore's Mutex vs
 * @sesamecare-oss/redlock, side by side against one isolated redis-server.
 *
 * Uncontended: acquire+release pairs/s at concurrency 1 and 64 (each task its own key), measured
 * in short slices that rotate through the contenders, so drift in the machine's speed (a shared
 * VM's neighbours, CPU placement) hits every contender alike; ratios are also given per slice pair.
 * Hot key: 64 tasks loop acquire → tiny critical section → release on one key; sections/s, wait
 * p50/p99 and the longest single wait. c=64 also on an auto-pipelined connection (as the app's): there
 * ioredis keeps one pipeline in flight, so the Redis time of each script counts in full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redlock } from '@sesamecare-oss/redlock';
import { MultiBar, Presets } from 'cli-progress';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { LockService } from '@seckill/lock';
import { SimpleLock } from './baselines/simple-lock';
import { fmt, hotResult, median, type HotResult } from './bench-stats';
import { RedisServer } from '../scripts/stack/redis';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const HOT_CONTENDERS = 64;
const SLICES = Number(process.env.BENCH_SLICES ?? 16);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 500);

/** One acquire/release implementation under test; `acquire` waits (retrying its own way) until it holds the lock. */
interface Contender {
  name: string;
  acquire(key: string): Promise<() => Promise<unknown>>;
}

function contenders(redis: Redis, subscriber: Redis): Contender[] {
  const ours = new LockService({ instanceId: 'bench', nodes: [redis], subscriber });
  const redlock = new Redlock([redis], { retryCount: -1 });
  return [
    {
      name: 'ours (ReentrantLock)',
      acquire: async (key) => {
        const handle = await ours.getLock(key).lock();
        return () => handle.unlock();
      },
    },
    {
      name: 'minimal SET NX + Lua DEL',
      acquire: async (key) => {
        const lock = new SimpleLock(redis, key, 30_000);
        // The seed's way of waiting: retry every 10 ms.
        while (!(await lock.tryLock())) {
          await sleep(10);
        }
        return () => lock.unlock();
      },
    },
    {
      name: 'redis-semaphore Mutex',
      acquire: async (key) => {
        const mutex = new Mutex(redis, key, { acquireTimeout: 60_000, lockTimeout: 30_000, refreshInterval: 0 });
        await mutex.acquire();
        return () => mutex.release();
      },
    },
    {
      name: '@sesamecare-oss/redlock',
      acquire: async (key) => {
        const lock = await redlock.acquire([key], 30_000);
        return () => lock.release();
      },
    },
  ];
}

/** Acquire+release pairs completed by `concurrency` tasks (own key each) in `durationMs`. */
async function uncontended(
  contender: Contender,
  concurrency: number,
  durationMs: number,
  tick: () => void,
): Promise<number> {
  let pairs = 0;
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, task) => {
      const key = `bench:free:${contender.name.length}:${task}`;
      while (performance.now() < until) {
        const release = await contender.acquire(key);
        await release();
        pairs++;
        tick();
      }
    }),
  );
  return pairs;
}

interface UncontendedResult {
  /** pairs/s per contender over all its slices */
  rates: number[];
  /** ours/minimal per slice pair (the two ran back to back) */
  ratios: number[];
}

/**
 * SLICES slices per contender, in rotating order (slice k starts with contender k mod n), after
 * one unmeasured warm-up slice each (JIT, connection buffers).
 */
async function uncontendedRotation(
  all: Contender[],
  concurrency: number,
  bars: MultiBar,
  redis: Redis,
): Promise<UncontendedResult> {
  const pairs = all.map(() => 0);
  const ratios: number[] = [];
  const bar = bars.create(SLICES + 1, 0, { name: 'uncontended'.padEnd(26), phase: `c=${concurrency}` });
  for (const contender of all) {
    await uncontended(contender, concurrency, SLICE_MS / 2, () => undefined);
  }
  bar.increment();
  for (let slice = 0; slice < SLICES; slice++) {
    const inSlice = all.map(() => 0);
    for (let step = 0; step < all.length; step++) {
      const i = (slice + step) % all.length;
      inSlice[i] = await uncontended(all[i], concurrency, SLICE_MS, () => undefined);
      pairs[i] += inSlice[i];
    }
    ratios.push(inSlice[0] / inSlice[1]);
    bar.increment();
    await redis.flushall();
  }
  bars.remove(bar);
  return { rates: pairs.map((count) => count / ((SLICES * SLICE_MS) / 1000)), ratios };
}

async function hotKey(contender: Contender, tick: () => void): Promise<HotResult> {
  const waits: number[] = [];
  const perTask = new Array<number>(HOT_CONTENDERS).fill(0);
  const key = `bench:hot:${contender.name.length}`;
  const until = performance.now() + DURATION_MS;
  let inside = 0;
  await Promise.all(
    Array.from({ length: HOT_CONTENDERS }, async (_, task) => {
      while (performance.now() < until) {
        const requestedAt = performance.now();
        const release = await contender.acquire(key);
        waits.push(performance.now() - requestedAt);
        if (++inside !== 1) {
          throw new Error(`${contender.name}: two holders at once`);
        }
        await new Promise((resolve) => setImmediate(resolve));
        inside--;
        await release();
        perTask[task]++;
        tick();
      }
    }),
  );
  return hotResult(waits, perTask, DURATION_MS);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lock-'));
  const server = await RedisServer.start(dir, 'bench-redis');
  const redis = new Redis(server.url);
  const subscriber = new Redis(server.url);
  const all = contenders(redis, subscriber);
  const pipelined = new Redis(server.url, { enableAutoPipelining: true });
  const allPipelined = contenders(pipelined, subscriber);
  const bars = new MultiBar(
    { format: '{name} {phase} |{bar}| {value}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  const rows = all.map((contender) => ({
    name: contender.name,
    c1: 0,
    c64: 0,
    c64Pipelined: 0,
    hot: undefined as unknown as HotResult,
  }));
  let ratios1: number[] = [];
  let ratios64: number[] = [];
  let ratiosPipelined: number[] = [];
  try {
    const c1 = await uncontendedRotation(all, 1, bars, redis);
    const c64 = await uncontendedRotation(all, 64, bars, redis);
    const c64Pipelined = await uncontendedRotation(allPipelined, 64, bars, redis);
    rows.forEach((row, i) => {
      row.c1 = c1.rates[i];
      row.c64 = c64.rates[i];
      row.c64Pipelined = c64Pipelined.rates[i];
    });
    ratios1 = c1.ratios;
    ratios64 = c64.ratios;
    ratiosPipelined = c64Pipelined.ratios;
    for (const [i, contender] of all.entries()) {
      const bar = bars.create(0, 0, { name: contender.name.padEnd(26), phase: 'hot key 64' });
      rows[i].hot = await hotKey(contender, () => bar.increment());
      bars.remove(bar);
      await redis.flushall();
    }
  } finally {
    bars.stop();
    redis.disconnect();
    pipelined.disconnect();
    subscriber.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const minimal = rows[1];
  const lines = [
    `Lock benchmark — uncontended: ${SLICES} rotating slices of ${SLICE_MS} ms per lock and concurrency; hot key: ${DURATION_MS} ms per lock; one redis-server, Node ${process.version}`,
    '',
    '| lock | uncontended c=1 pairs/s | c=64 pairs/s | c=64 auto-pipelined pairs/s | hot key sections/s | wait p50 ms | wait p99 ms | longest wait ms | starved tasks |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${fmt(row.c1)} | ${fmt(row.c64)} | ${fmt(row.c64Pipelined)} | ${fmt(row.hot.sectionsPerSecond)} | ${fmt(row.hot.p50, 1)} | ${fmt(row.hot.p99, 1)} | ${fmt(row.hot.longest, 1)} | ${row.hot.starvedTasks} |`,
    ),
    '',
  ];
  const ours = rows[0];
  const peers = rows.slice(2);
  const bestPeerP99 = Math.min(...peers.map((row) => row.hot.p99));
  const bestPeerThroughput = Math.max(...peers.map((row) => row.hot.sectionsPerSecond));
  const range = (values: number[]) =>
    `median of slice pairs ${median(values).toFixed(2)}×, range ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  lines.push(
    `Ratios: uncontended ours/minimal c=1 ${(ours.c1 / minimal.c1).toFixed(2)}× (${range(ratios1)}), ` +
      `c=64 ${(ours.c64 / minimal.c64).toFixed(2)}× (${range(ratios64)}), ` +
      `c=64 auto-pipelined ${(ours.c64Pipelined / minimal.c64Pipelined).toFixed(2)}× (${range(ratiosPipelined)}); ` +
      `hot key p99 wait best peer/ours ${(bestPeerP99 / ours.hot.p99).toFixed(1)}×, throughput ours/best peer ${(ours.hot.sectionsPerSecond / bestPeerThroughput).toFixed(2)}×`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
