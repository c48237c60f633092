/**
 * `npm run bench:lock:backends` (also the second half of `npm run bench:lock`) — the lock library's
 * backends side by side: Redis (the LockService default) and the MySQL lock table, GET_LOCK and
 * SELECT … FOR UPDATE, all through one LockService (`getLockIn(kind, name)`), against one isolated
 * redis-server and one isolated mariadbd.
 *
 * Uncontended: acquire+release pairs/s at concurrency 1 and 16 (each task its own key), measured in
 * short slices that rotate through the backends, so drift in the machine's speed hits every backend
 * alike; ratios to Redis are also given per slice pair. Hot key: 16 tasks loop acquire → tiny
 * critical section → release on one key; sections/s, wait p50/p99, the longest single wait and the
 * tasks that never got in. Every task is a lock owner of its own (`withOwner`), so no task re-enters
 * another's hold.
 *
 * Two holders at once end the run. An acquire or release that rejects is counted, not retried
 * differently: the run goes on, the cells it touched are marked ⚠, the first error of each is
 * printed under the table and the exit code is 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import { Redis } from 'ioredis';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { createClient as createZooKeeperClient } from 'node-zookeeper-client';
import { LockService, REDIS_BACKEND, type LockBackend } from '@seckill/lock';
import { MySqlNamedLockBackend, MySqlRowLockBackend, MySqlTableLockBackend } from '@seckill/lock/mysql';
import { ZooKeeperLockBackend } from '@seckill/lock/zookeeper';
import { MariaDbServer } from '../scripts/stack/mariadb';
import { RedisServer } from '../scripts/stack/redis';
import { ZooKeeperServer } from '../scripts/stack/zookeeper';
import { fmt, hotResult, median, type HotResult } from './bench-stats';
import { describeError } from './describe-error';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const CONCURRENCY = 16;
const SLICES = Number(process.env.BENCH_SLICES ?? 8);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 400);
const ACQUIRE = { waitTime: 60_000 };

/** One backend under test: the `kind` LockService chooses it by and its name in the table. */
interface BackendEntry {
  kind: string;
  label: string;
}

/** In table order; the first is the reference of the ratios. Each non-Redis kind is constructed in `lockService`. */
const BACKENDS: BackendEntry[] = [
  { kind: REDIS_BACKEND, label: 'redis (LockService default)' },
  { kind: 'mysql-table', label: 'mysql-table (lock table)' },
  { kind: 'mysql-named', label: 'mysql-named (GET_LOCK)' },
  { kind: 'mysql-row', label: 'mysql-row (SELECT … FOR UPDATE)' },
  { kind: 'zookeeper', label: 'zookeeper (ephemeral sequential)' },
];

/** One LockService with every backend of BACKENDS, and the pools to end after closing it. */
async function lockService(
  redis: Redis,
  subscriber: Redis,
  mysqlUrl: string,
  zookeeperUrl: string,
): Promise<{ locks: LockService; pools: Pool[] }> {
  const pools: Pool[] = [];
  // The session-bound styles pin a connection per holder and per waiter: a pool of their own each,
  // one connection per concurrent task and one spare. The table style holds none while waiting.
  const pool = () => {
    const created = createPool({ uri: mysqlUrl, connectionLimit: CONCURRENCY + 1 });
    pools.push(created);
    return created;
  };
  const table = new MySqlTableLockBackend({ client: pool() });
  const named = new MySqlNamedLockBackend({ pool: pool() });
  const row = new MySqlRowLockBackend({ pool: pool() });
  await Promise.all([table.ensureTable(), named.ensureTable(), row.ensureTable()]);
  const zookeeper = new ZooKeeperLockBackend({
    createClient: () => createZooKeeperClient(zookeeperUrl, { sessionTimeout: 10_000 }),
  });
  const backends: LockBackend[] = [table, named, row, zookeeper];
  const locks = new LockService({ instanceId: 'bench-backends', nodes: [redis], subscriber, backends });
  return { locks, pools };
}

/** Acquisitions and releases of one backend in one scenario that rejected: how many of how many, and the first. */
class Failures {
  operations = 0;
  count = 0;
  first?: string;

  /** Runs one acquire or release; its error is counted and `undefined` returned. */
  async run<T>(operation: () => Promise<T>): Promise<T | undefined> {
    this.operations++;
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ExclusionViolation) {
        throw error;
      }
      this.count++;
      this.first ??= describeError(error);
      return undefined;
    }
  }
}

class ExclusionViolation extends Error {}

/** `count` tasks, each a lock owner of its own, all run to their end. */
async function tasks(locks: LockService, count: number, body: (task: number) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, task) => locks.withOwner(() => body(task))),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    throw failed.reason;
  }
}

/** Acquire+release pairs completed by `concurrency` tasks (own key each) of `kind` in `durationMs`. */
async function uncontended(
  locks: LockService,
  kind: string,
  concurrency: number,
  durationMs: number,
  failures: Failures,
): Promise<number> {
  let pairs = 0;
  const until = performance.now() + durationMs;
  await tasks(locks, concurrency, async (task) => {
    const key = `bench:free:${kind}:${task}`;
    while (performance.now() < until) {
      const handle = await failures.run(() => locks.getLockIn(kind, key).lock(ACQUIRE));
      if (handle && (await failures.run(() => handle.unlock().then(() => true)))) {
        pairs++;
      }
    }
  });
  return pairs;
}

interface UncontendedResult {
  /** pairs/s per backend over all its slices */
  rates: number[];
  /** per backend, its pairs / the reference's pairs in each slice (the backends ran back to back) */
  ratios: number[][];
  failures: Failures[];
}

/**
 * SLICES slices per backend, in rotating order (slice k starts with backend k mod n), after one
 * unmeasured warm-up slice each (JIT, pool connections, the lock rows and tables).
 */
async function uncontendedRotation(
  locks: LockService,
  concurrency: number,
  progress: Progress,
): Promise<UncontendedResult> {
  const pairs = BACKENDS.map(() => 0);
  const ratios: number[][] = BACKENDS.map(() => []);
  const failures = BACKENDS.map(() => new Failures());
  const bar = progress.bar('uncontended', `c=${concurrency}`, SLICES + 1);
  for (const [i, { kind }] of BACKENDS.entries()) {
    await uncontended(locks, kind, concurrency, SLICE_MS / 2, failures[i]);
  }
  bar.increment();
  for (let slice = 0; slice < SLICES; slice++) {
    const inSlice = BACKENDS.map(() => 0);
    for (let step = 0; step < BACKENDS.length; step++) {
      const i = (slice + step) % BACKENDS.length;
      inSlice[i] = await uncontended(locks, BACKENDS[i].kind, concurrency, SLICE_MS, failures[i]);
      pairs[i] += inSlice[i];
    }
    inSlice.forEach((count, i) => ratios[i].push(count / inSlice[0]));
    bar.increment();
  }
  bar.done();
  return { rates: pairs.map((count) => count / ((SLICES * SLICE_MS) / 1000)), ratios, failures };
}

/** CONCURRENCY tasks loop acquire → one setImmediate → release on one key of `kind`. */
async function hotKey(
  locks: LockService,
  { kind, label }: BackendEntry,
  failures: Failures,
  tick: () => void,
): Promise<HotResult> {
  const waits: number[] = [];
  const perTask = new Array<number>(CONCURRENCY).fill(0);
  const key = `bench:hot:${kind}`;
  const until = performance.now() + DURATION_MS;
  let inside = 0;
  await tasks(locks, CONCURRENCY, async (task) => {
    while (performance.now() < until) {
      const requestedAt = performance.now();
      const handle = await failures.run(() => locks.getLockIn(kind, key).lock(ACQUIRE));
      if (!handle) {
        continue;
      }
      waits.push(performance.now() - requestedAt);
      if (++inside !== 1 || handle.holdCount !== 1) {
        throw new ExclusionViolation(`${label}: two holders at once (hold count ${handle.holdCount})`);
      }
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
      await failures.run(() => handle.unlock());
      perTask[task]++;
      tick();
    }
  });
  return hotResult(waits, perTask, DURATION_MS);
}

interface Progress {
  bar(name: string, phase: string, total: number): { increment(): void; done(): void };
  stop(): void;
}

/** cli-progress bars on a terminal; nothing otherwise (its non-TTY mode redraws unstarted bars). */
function progress(): Progress {
  if (!process.stderr.isTTY) {
    return { bar: () => ({ increment: () => undefined, done: () => undefined }), stop: () => undefined };
  }
  const bars = new MultiBar(
    { format: '{name} {phase} |{bar}| {value}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  return {
    bar: (name, phase, total) => {
      const bar = bars.create(total, 0, { name: name.padEnd(32), phase });
      return { increment: () => bar.increment(), done: () => bars.remove(bar) };
    },
    stop: () => bars.stop(),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lock-backends-'));
  const bars = progress();
  const rows = BACKENDS.map(({ kind, label }) => ({
    kind,
    label,
    c1: 0,
    c16: 0,
    hot: undefined as unknown as HotResult,
    failures: new Map<string, Failures>(),
  }));
  let ratios1: number[][] = [];
  let mariadbVersion = '';
  let redisServer: RedisServer | undefined;
  let mariadb: MariaDbServer | undefined;
  let zookeeperServer: ZooKeeperServer | undefined;
  let redis: Redis | undefined;
  let subscriber: Redis | undefined;
  let locks: LockService | undefined;
  let pools: Pool[] = [];
  try {
    redisServer = await RedisServer.start(join(dir, 'redis'), 'bench-redis');
    mariadb = await MariaDbServer.start(join(dir, 'mariadb'));
    const mysqlUrl = await mariadb.createDatabase('bench_lock');
    zookeeperServer = await ZooKeeperServer.start(join(dir, 'zookeeper'), 'bench-zookeeper');
    redis = new Redis(redisServer.url);
    subscriber = new Redis(redisServer.url);
    ({ locks, pools } = await lockService(redis, subscriber, mysqlUrl, zookeeperServer.connectionString));
    const [versionRows] = await pools[0].query<RowDataPacket[]>('SELECT VERSION() AS version');
    mariadbVersion = (versionRows[0] as { version: string }).version;

    const c1 = await uncontendedRotation(locks, 1, bars);
    const c16 = await uncontendedRotation(locks, CONCURRENCY, bars);
    rows.forEach((row, i) => {
      row.c1 = c1.rates[i];
      row.c16 = c16.rates[i];
      row.failures.set('c=1', c1.failures[i]);
      row.failures.set(`c=${CONCURRENCY}`, c16.failures[i]);
    });
    ratios1 = c1.ratios;
    for (const [i, entry] of BACKENDS.entries()) {
      const bar = bars.bar(entry.label, `hot key ${CONCURRENCY}`, 0);
      const failures = new Failures();
      rows[i].hot = await hotKey(locks, entry, failures, () => bar.increment());
      rows[i].failures.set('hot key', failures);
      bar.done();
    }
  } finally {
    bars.stop();
    locks?.close();
    redis?.disconnect();
    subscriber?.disconnect();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    await Promise.all([mariadb?.stop(), redisServer?.stop(), zookeeperServer?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const flag = (row: (typeof rows)[number], scenario: string) =>
    (row.failures.get(scenario)?.count ?? 0) > 0 ? ' ⚠' : '';
  const hotFlag = (row: (typeof rows)[number]) => flag(row, 'hot key');
  const lines = [
    `Lock backend benchmark — uncontended: ${SLICES} rotating slices of ${SLICE_MS} ms per backend and concurrency; ` +
      `hot key: ${CONCURRENCY} tasks, ${DURATION_MS} ms per backend; one redis-server, one mariadbd ${mariadbVersion}, one ZooKeeper 3.8 (standalone, fsync on), Node ${process.version}`,
    '',
    `| backend | uncontended c=1 pairs/s | c=${CONCURRENCY} pairs/s | hot key sections/s | wait p50 ms | wait p99 ms | longest wait ms | starved tasks |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${fmt(row.c1)}${flag(row, 'c=1')} | ${fmt(row.c16)}${flag(row, `c=${CONCURRENCY}`)} | ` +
        `${fmt(row.hot.sectionsPerSecond)}${hotFlag(row)} | ${fmt(row.hot.p50, 1)} | ${fmt(row.hot.p99, 1)} | ` +
        `${fmt(row.hot.longest, 1)} | ${row.hot.starvedTasks} |`,
    ),
    '',
  ];
  const reference = rows[0];
  const range = (values: number[]) =>
    `median of slice pairs ${median(values).toFixed(2)}×, range ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  lines.push(
    `Ratios to ${reference.kind} (uncontended c=1 pairs/s; hot key sections/s): ` +
      rows
        .slice(1)
        .map(
          (row, i) =>
            `${row.kind} c=1 ${(row.c1 / reference.c1).toFixed(2)}× (${range(ratios1[i + 1])}), ` +
            `hot key ${(row.hot.sectionsPerSecond / reference.hot.sectionsPerSecond).toFixed(2)}×`,
        )
        .join('; '),
  );
  const failed = rows.flatMap((row) =>
    [...row.failures]
      .filter(([, failures]) => failures.count > 0)
      .map(
        ([scenario, failures]) =>
          `⚠ ${row.kind}, ${scenario}: ${fmt(failures.count)} of ${fmt(failures.operations)} acquires/releases rejected; first: ${failures.first}`,
      ),
  );
  if (failed.length > 0) {
    lines.push('', ...failed);
    process.exitCode = 1;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
