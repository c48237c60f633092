/**
 * One child process of bench/lock-cross-process.bench.ts (forked with tsx's loader; config as JSON
 * in argv[2]). It connects to the parent's redis-server, builds one lock of LOCKS, warms it up on a
 * key of its own, reports `ready` and waits for `go`; then `tasks` tasks loop acquire → critical
 * section → release on the shared hot key until `durationMs` has passed, and it sends what it saw
 * back over IPC and exits.
 *
 * Critical section: INCR of the shared `insideKey` (must answer 1, else an exclusion violation is
 * counted) → the variant's body → DECR, on a connection of its own (exclusion `redis`; `clock`
 * leaves both out). Either way the section's entry and exit are stamped with the monotonic clock
 * (`process.hrtime`, one clock for every process of the machine), so the parent can also check that
 * no two sections of any processes overlapped, at no cost inside the section.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { LockService } from '@seckill/lock';
import { SimpleLock } from './baselines/simple-lock';
import { describeError } from './describe-error';

/** The locks under test, in table order; the same four, with the same settings, as bench/lock.bench.ts. */
export const LOCKS = [
  { id: 'ours', name: 'ours (ReentrantLock)' },
  { id: 'ours-fair', name: 'ours, fair (getFairLock)' },
  { id: 'minimal', name: 'minimal SET NX + Lua DEL' },
  { id: 'redis-semaphore', name: 'redis-semaphore Mutex' },
  { id: 'redlock', name: '@sesamecare-oss/redlock' },
] as const;

export type LockId = (typeof LOCKS)[number]['id'];

/** What runs inside the lock besides the exclusion check. */
export const VARIANTS = {
  tiny: { label: 'tiny (one setImmediate)', body: () => new Promise<void>((resolve) => setImmediate(resolve)) },
  '10ms': { label: '10 ms (await sleep(10))', body: () => sleep(10) },
} as const;

export type VariantId = keyof typeof VARIANTS;

/** `redis`: INCR/DECR of a shared counter inside each section (2 round trips); `clock`: the monotonic-clock check only. */
export type ExclusionCheck = 'redis' | 'clock';

export interface WorkerConfig {
  lock: LockId;
  variant: VariantId;
  redisUrl: string;
  /** This child's index (0…P-1), part of its instance id. */
  child: number;
  tasks: number;
  durationMs: number;
  key: string;
  insideKey: string;
  exclusion: ExclusionCheck;
  /** After the deadline, how long acquisitions still waiting may take before the child reports anyway. */
  drainCapMs: number;
}

/** What a child measured. */
export interface WorkerResult {
  /** Per task: sections whose lock was granted before the deadline. */
  inWindow: number[];
  /** Per task: all sections, those granted while draining after the deadline included. */
  total: number[];
  /** ms from the acquire call to the grant, of every granted acquisition (draining ones included). */
  waits: number[];
  /** Flat [entry, exit, entry, exit, …] of every section, monotonic clock in ns. */
  intervals: number[];
  /** Sections whose INCR did not answer 1. */
  violations: number;
  /** Acquires and releases started, those that rejected, and the first rejection. */
  operations: number;
  errors: number;
  firstError?: string;
  /** Tasks that had not finished when the drain cap ended the child (0 normally). */
  unfinished: number;
}

export type ToParent = { type: 'ready' } | { type: 'result'; result: WorkerResult } | { type: 'failed'; error: string };
export type ToChild = { type: 'go' };

/** One lock implementation: `acquire` waits (retrying its own way) until it holds the lock. */
interface Contender {
  acquire(key: string): Promise<() => Promise<unknown>>;
  /** Runs one task's loop as a lock owner of its own (only ours has owners). */
  asOwner<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

function contender(id: LockId, redis: Redis, subscriber: Redis, child: number): Contender {
  const plain = { asOwner: <T>(fn: () => Promise<T>) => fn(), close: () => undefined };
  switch (id) {
    case 'ours':
    case 'ours-fair': {
      const ours = new LockService({ instanceId: `bench-cross-${id}-${child}`, nodes: [redis], subscriber });
      return {
        acquire: async (key) => {
          const handle = await (id === 'ours' ? ours.getLock(key) : ours.getFairLock(key)).lock();
          return () => handle.unlock();
        },
        asOwner: (fn) => ours.withOwner(fn),
        close: () => ours.close(),
      };
    }
    case 'minimal':
      return {
        ...plain,
        acquire: async (key) => {
          const lock = new SimpleLock(redis, key, 30_000);
          // The seed's way of waiting: retry every 10 ms.
          while (!(await lock.tryLock())) {
            await sleep(10);
          }
          return () => lock.unlock();
        },
      };
    case 'redis-semaphore':
      return {
        ...plain,
        acquire: async (key) => {
          const mutex = new Mutex(redis, key, { acquireTimeout: 60_000, lockTimeout: 30_000, refreshInterval: 0 });
          await mutex.acquire();
          return () => mutex.release();
        },
      };
    case 'redlock': {
      const redlock = new Redlock([redis], { retryCount: -1 });
      return {
        ...plain,
        acquire: async (key) => {
          const lock = await redlock.acquire([key], 30_000);
          return () => lock.release();
        },
      };
    }
  }
}

const now = () => Number(process.hrtime.bigint());

function send(message: ToParent): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

const go = () =>
  new Promise<void>((resolve) => {
    process.on('message', (message: ToChild) => {
      if (message.type === 'go') {
        resolve();
      }
    });
  });

async function run(config: WorkerConfig, locks: Contender, checker: Redis | undefined): Promise<WorkerResult> {
  const body = VARIANTS[config.variant].body;
  const result: WorkerResult = {
    inWindow: new Array<number>(config.tasks).fill(0),
    total: new Array<number>(config.tasks).fill(0),
    waits: [],
    intervals: [],
    violations: 0,
    operations: 0,
    errors: 0,
    unfinished: config.tasks,
  };
  /** One acquire or release; a rejection is counted and `undefined` returned (the loop goes on). */
  const attempt = async <T>(operation: () => Promise<T>): Promise<T | undefined> => {
    result.operations++;
    try {
      return await operation();
    } catch (error) {
      result.errors++;
      result.firstError ??= describeError(error);
      return undefined;
    }
  };
  const until = performance.now() + config.durationMs;
  const task = async (index: number) => {
    while (performance.now() < until) {
      const requestedAt = performance.now();
      const release = await attempt(() => locks.acquire(config.key));
      if (!release) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const grantedAt = performance.now();
      result.waits.push(grantedAt - requestedAt);
      const entry = now();
      if (checker && (await checker.incr(config.insideKey)) !== 1) {
        result.violations++;
      }
      await body();
      if (checker) {
        await checker.decr(config.insideKey);
      }
      result.intervals.push(entry, now());
      await attempt(release);
      result.total[index]++;
      if (grantedAt < until) {
        result.inWindow[index]++;
      }
    }
    result.unfinished--;
  };
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.durationMs + config.drainCapMs)));
  await Promise.race([Promise.all(Array.from({ length: config.tasks }, (_, i) => locks.asOwner(() => task(i)))), cap]);
  clearTimeout(timer);
  // A snapshot: tasks cut off by the drain cap may still be appending.
  return { ...result, waits: [...result.waits], intervals: [...result.intervals] };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as WorkerConfig;
  const started = go();
  const redis = new Redis(config.redisUrl);
  const subscriber = new Redis(config.redisUrl);
  const checker = config.exclusion === 'redis' ? new Redis(config.redisUrl) : undefined;
  const locks = contender(config.lock, redis, subscriber, config.child);
  try {
    // Warm-up on a key of this child's own: connections, scripts, JIT.
    const release = await locks.asOwner(() => locks.acquire(`${config.key}:warm-up:${config.child}`));
    await release();
    await checker?.ping();
    await send({ type: 'ready' });
    await started;
    const result = await run(config, locks, checker);
    await send({ type: 'result', result });
  } catch (error) {
    await send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  } finally {
    locks.close();
    redis.disconnect();
    subscriber.disconnect();
    checker?.disconnect();
    process.disconnect();
  }
  // Tasks cut off by the drain cap may still hold timers and sockets.
  process.exit(0);
}

if (require.main === module) {
  void main();
}
