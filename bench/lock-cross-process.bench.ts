/**
 * `npm run bench:lock:cross` (also the last part of `npm run bench:lock`) — the hot key across
 * processes: BENCH_PROCESSES child processes (default 4) × BENCH_TASKS tasks each (default 16)
 * contend on one key, each task looping acquire → critical section → release for
 * BENCH_DURATION_MS (default 5000), for the four locks of bench/lock.bench.ts (same settings) and
 * two critical sections: one setImmediate ("tiny") and an awaited 10 ms sleep. One isolated
 * redis-server; the children (bench/lock-cross-process.worker.ts, forked with tsx's loader) are
 * started afresh for every (lock, variant, check) cell, warm up on keys of their own and begin
 * together on a "go" message.
 *
 * Exclusion is checked in every cell by the sections' entry and exit stamps on the machine's
 * monotonic clock (they must not overlap across all processes); every cell runs twice (set
 * BENCH_EXCLUSION=clock or redis for one of them): with the section alone, and with an INCR of a
 * shared counter inside it that must answer 1 (then DECR) — 2 round trips of its own in every
 * section, which bound every lock's rate by themselves. Violations are
 * reported, never hidden; acquires and releases that reject are counted (the cell is marked ⚠, the
 * first error printed under the table) and the exit code is then 1.
 *
 * Per cell: critical sections/s (granted before the deadline), wait p50/p99/worst (acquire call →
 * grant, including the acquisitions still waiting at the deadline, which are let finish), Jain's
 * fairness index over the P×T tasks' section counts, tasks that got no section.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { RedisServer } from '../scripts/stack/redis';
import { registerPid, unregisterPid } from '../scripts/stack/pid-registry';
import { fmt, hotResult, type HotResult } from './bench-stats';
import {
  LOCKS,
  VARIANTS,
  type ExclusionCheck,
  type LockId,
  type ToChild,
  type ToParent,
  type VariantId,
  type WorkerConfig,
  type WorkerResult,
} from './lock-cross-process.worker';

const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 4);
const TASKS = Number(process.env.BENCH_TASKS ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
/** `both` (default): every cell once per exclusion check, the section alone first, then with INCR/DECR. */
const EXCLUSION = process.env.BENCH_EXCLUSION ?? 'both';
const EXCLUSIONS: ExclusionCheck[] = EXCLUSION === 'both' ? ['clock', 'redis'] : [EXCLUSION as ExclusionCheck];
const SECTION_CHECK: Record<ExclusionCheck, string> = {
  clock: 'the body alone (exclusion checked by the monotonic-clock stamps only)',
  redis:
    'INCR of a shared counter (must answer 1) → body → DECR, on a connection of its own per process (2 round trips in every section, for every lock alike), plus the clock stamps',
};
/** After the deadline, how long a child lets its waiting acquisitions finish before reporting anyway. */
const DRAIN_CAP_MS = 30_000;
/** Start-up (tsx, connections, warm-up) of all children of a cell. */
const READY_TIMEOUT_MS = 60_000;
const WORKER = join(__dirname, 'lock-cross-process.worker.ts');
/** tsx's loader by absolute URL, so the children find it whatever their working directory. */
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

type Message<T extends ToParent['type']> = Extract<ToParent, { type: T }>;

/** One forked worker: its messages in arrival order, the tail of its output, and a stop that escalates to SIGKILL. */
class Child {
  readonly process: ChildProcess;
  private output = '';
  private readonly inbox: ToParent[] = [];
  private wake?: () => void;
  private exitedFlag = false;
  private disconnected = false;
  private readonly exited: Promise<void>;

  constructor(readonly config: WorkerConfig) {
    this.process = fork(WORKER, [JSON.stringify(config)], {
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const pid = this.process.pid;
    if (pid !== undefined) {
      registerPid(pid);
    }
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    this.process.on('message', (message: ToParent) => {
      this.inbox.push(message);
      this.wake?.();
    });
    this.process.once('disconnect', () => {
      this.disconnected = true;
      this.wake?.();
    });
    this.exited = new Promise((resolve) => {
      this.process.once('exit', () => {
        if (pid !== undefined) {
          unregisterPid(pid);
        }
        this.exitedFlag = true;
        this.wake?.();
        resolve();
      });
      this.process.once('error', (error) => {
        this.output += `\n${error.message}`;
        this.exitedFlag = true;
        this.wake?.();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && !this.exitedFlag;
  }

  send(message: ToChild): void {
    this.process.send(message);
  }

  /** The next message, which must be of `type`; rejects on a `failed` message, an early exit or the timeout. */
  async expect<T extends ToParent['type']>(type: T, timeoutMs: number): Promise<Message<T>> {
    const deadline = performance.now() + timeoutMs;
    const name = `child ${this.config.child} (${this.config.lock}, ${this.config.variant})`;
    for (;;) {
      const message = this.inbox.shift();
      if (message?.type === type) {
        return message as Message<T>;
      }
      if (message?.type === 'failed') {
        throw new Error(`${name} failed: ${message.error}`);
      }
      if (message) {
        throw new Error(`${name}: ${message.type} instead of ${type}`);
      }
      // Every message is read before the IPC channel reports its end.
      if (this.exitedFlag && this.disconnected) {
        const { exitCode, signalCode } = this.process;
        throw new Error(`${name} ended (${signalCode ?? exitCode}) before ${type}; its output:\n${this.output}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`${name}: no ${type} in ${timeoutMs} ms; its output:\n${this.output}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** SIGTERM if still running, SIGKILL after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running) {
      return;
    }
    this.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!gone && this.running) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

interface CellResult {
  hot: HotResult;
  jain: number;
  /** Sections whose INCR did not answer 1. */
  violations: number;
  /** Sections that began before an earlier-begun section (of any process) had ended, by the monotonic clock. */
  overlaps: number;
  drained: number;
  operations: number;
  errors: number;
  firstError?: string;
  unfinished: number;
  /** The shared counter after the run (0 unless a section was cut off or a DECR was lost). */
  insideAfter: number;
}

/** Jain's fairness index (Σx)² / (n·Σx²): 1 when all equal, 1/n when one task got everything. */
function jain(counts: number[]): number {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? NaN : (sum * sum) / (counts.length * squares);
}

/** Sections that started before the latest end among the sections started earlier. */
function overlaps(intervals: number[]): number {
  const sections: [number, number][] = [];
  for (let i = 0; i < intervals.length; i += 2) {
    sections.push([intervals[i], intervals[i + 1]]);
  }
  sections.sort((a, b) => a[0] - b[0]);
  let latestEnd = -Infinity;
  let count = 0;
  for (const [entry, exit] of sections) {
    if (entry < latestEnd) {
      count++;
    }
    latestEnd = Math.max(latestEnd, exit);
  }
  return count;
}

function summarize(results: WorkerResult[], insideAfter: number): CellResult {
  const inWindow = results.flatMap((result) => result.inWindow);
  const granted = inWindow.reduce((a, b) => a + b, 0);
  const hot = hotResult(
    results.flatMap((result) => result.waits),
    inWindow,
    DURATION_MS,
  );
  const sum = (pick: (result: WorkerResult) => number) => results.reduce((a, result) => a + pick(result), 0);
  return {
    // Only sections granted before the deadline; hotResult would count the drained ones too.
    hot: { ...hot, sectionsPerSecond: granted / (DURATION_MS / 1000) },
    jain: jain(inWindow),
    violations: sum((result) => result.violations),
    overlaps: overlaps(results.flatMap((result) => result.intervals)),
    drained: sum((result) => result.total.reduce((a, b) => a + b, 0)) - granted,
    operations: sum((result) => result.operations),
    errors: sum((result) => result.errors),
    firstError: results.find((result) => result.firstError)?.firstError,
    unfinished: sum((result) => result.unfinished),
    insideAfter,
  };
}

/** Starts PROCESSES children for one (lock, variant), lets them go together, and gathers their results. */
async function cell(
  target: { lock: LockId; variant: VariantId; exclusion: ExclusionCheck },
  redisUrl: string,
  redis: Redis,
  live: Set<Child>,
) {
  const { lock, variant, exclusion } = target;
  const key = `bench:cross:${lock}:${variant}:${exclusion}`;
  const insideKey = `${key}:inside`;
  const children = Array.from({ length: PROCESSES }, (_, child) => {
    const started = new Child({
      lock,
      variant,
      redisUrl,
      child,
      tasks: TASKS,
      durationMs: DURATION_MS,
      key,
      insideKey,
      exclusion,
      drainCapMs: DRAIN_CAP_MS,
    });
    live.add(started);
    return started;
  });
  try {
    await Promise.all(children.map((child) => child.expect('ready', READY_TIMEOUT_MS)));
    for (const child of children) {
      child.send({ type: 'go' });
    }
    const messages = await Promise.all(
      children.map((child) => child.expect('result', DURATION_MS + DRAIN_CAP_MS + 15_000)),
    );
    const insideAfter = Number((await redis.get(insideKey)) ?? 0);
    return summarize(
      messages.map((message) => message.result),
      insideAfter,
    );
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    children.forEach((child) => live.delete(child));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  if (!['both', 'redis', 'clock'].includes(EXCLUSION)) {
    throw new Error(`BENCH_EXCLUSION must be both, redis or clock, not ${EXCLUSION}`);
  }
  const variants = Object.keys(VARIANTS) as VariantId[];
  const results = new Map<string, CellResult | { failed: string }>();
  const dir = mkdtempSync(join(tmpdir(), 'bench-lock-cross-'));
  const live = new Set<Child>();
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  let redisVersion = '';
  const startedAt = performance.now();
  try {
    server = await RedisServer.start(dir, 'bench-redis');
    redis = new Redis(server.url);
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    let done = 0;
    const total = EXCLUSIONS.length * variants.length * LOCKS.length;
    for (const exclusion of EXCLUSIONS) {
      for (const variant of variants) {
        for (const { id, name } of LOCKS) {
          process.stderr.write(`[${++done}/${total}] ${name}, ${VARIANTS[variant].label}, ${exclusion} check …\n`);
          try {
            results.set(
              `${id}/${variant}/${exclusion}`,
              await cell({ lock: id, variant, exclusion }, server.url, redis, live),
            );
          } catch (error) {
            results.set(`${id}/${variant}/${exclusion}`, { failed: describe(error) });
          }
          await redis.flushall();
        }
      }
    }
  } finally {
    await Promise.all([...live].map((child) => child.stop()));
    redis?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    `Cross-process hot key — ${PROCESSES} processes × ${TASKS} tasks = ${PROCESSES * TASKS} tasks on one key, ${DURATION_MS} ms per lock and variant ` +
      `(fresh processes per cell, started together); one redis-server ${redisVersion}, Node ${process.version}, ${availableParallelism()} CPUs; ` +
      `wall time ${((performance.now() - startedAt) / 1000).toFixed(0)} s`,
    "Exclusion is checked in every cell by the sections' entry/exit stamps on the monotonic clock (no overlap across processes).",
    'sections/s: granted before the deadline; waits: acquire call → grant, the acquisitions still waiting at the deadline included (let finish); ' +
      `Jain's index and starved tasks over the ${PROCESSES * TASKS} tasks' sections granted before the deadline.`,
  ];
  const problems: string[] = [];
  for (const exclusion of EXCLUSIONS) {
    lines.push('', `## Inside the lock: ${SECTION_CHECK[exclusion]}`);
    for (const variant of variants) {
      const cellName = `${variant}, ${exclusion} check`;
      lines.push(
        '',
        `### Critical section: ${VARIANTS[variant].label}, ${exclusion} check`,
        '',
        "| lock | sections/s | wait p50 ms | wait p99 ms | worst wait ms | Jain's index | starved tasks | violations (INCR≠1 / clock overlaps) |",
        '|---|---:|---:|---:|---:|---:|---:|---:|',
      );
      for (const { id, name } of LOCKS) {
        const result = results.get(`${id}/${variant}/${exclusion}`);
        if (!result || 'failed' in result) {
          lines.push(`| ${name} | ✗ failed | | | | | | |`);
          problems.push(`✗ ${name}, ${cellName}: ${result ? result.failed : 'not run'}`);
          continue;
        }
        const flag = result.errors > 0 || result.unfinished > 0 ? ' ⚠' : '';
        const incr = exclusion === 'redis' ? fmt(result.violations) : '—';
        lines.push(
          `| ${name} | ${fmt(result.hot.sectionsPerSecond)}${flag} | ${fmt(result.hot.p50, 1)} | ${fmt(result.hot.p99, 1)} | ` +
            `${fmt(result.hot.longest, 1)} | ${result.jain.toFixed(3)} | ${result.hot.starvedTasks} | ${incr} / ${fmt(result.overlaps)} |`,
        );
        if (result.errors > 0) {
          problems.push(
            `⚠ ${name}, ${cellName}: ${fmt(result.errors)} of ${fmt(result.operations)} acquires/releases rejected; first: ${result.firstError}`,
          );
        }
        if (result.unfinished > 0) {
          problems.push(
            `⚠ ${name}, ${cellName}: ${result.unfinished} tasks still waiting ${DRAIN_CAP_MS} ms after the deadline (cut off)`,
          );
        }
        if (result.violations > 0 || result.overlaps > 0) {
          problems.push(
            `✗ ${name}, ${cellName}: mutual exclusion violated — ${fmt(result.violations)} INCR≠1, ${fmt(result.overlaps)} overlapping sections`,
          );
        }
        if (result.insideAfter !== 0) {
          problems.push(`⚠ ${name}, ${cellName}: the shared counter ended at ${result.insideAfter}, not 0`);
        }
      }
      const drained = LOCKS.map(({ id }) => {
        const result = results.get(`${id}/${variant}/${exclusion}`);
        return `${id} ${result && !('failed' in result) ? fmt(result.drained) : '—'}`;
      });
      lines.push('', `Sections granted after the deadline while draining (not counted): ${drained.join(', ')}`);
      const ours = results.get(`ours/${variant}/${exclusion}`);
      const semaphore = results.get(`redis-semaphore/${variant}/${exclusion}`);
      if (ours && !('failed' in ours) && semaphore && !('failed' in semaphore)) {
        lines.push(
          '',
          `Ratio (${cellName}): ours / redis-semaphore throughput ${(ours.hot.sectionsPerSecond / semaphore.hot.sectionsPerSecond).toFixed(2)}×; ` +
            `ours worst wait ${fmt(ours.hot.longest, 1)} ms (redis-semaphore ${fmt(semaphore.hot.longest, 1)} ms), ` +
            `ours Jain ${ours.jain.toFixed(3)} (redis-semaphore ${semaphore.jain.toFixed(3)})`,
        );
      }
    }
  }
  if (problems.length > 0) {
    lines.push('', ...problems);
    process.exitCode = 1;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
