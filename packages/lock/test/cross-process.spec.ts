import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { assertFencedWrite, fencedUpdate } from '../src/fencing';
import { LockLostError } from '../src/lock.errors';
import { type RedisServer, ChildWorker, createTestDatabase, startTestRedis } from './support/repo';
import type { ContendResult } from './support/lock-worker';
import { startLockWorker } from './support/lock-worker-client';
import { LockServices } from './support/lock-services';

async function contendFromProcesses(
  workers: ChildWorker[],
  command: { redisUrl: string; name: string; mode: 'redis' | 'local'; localBurst?: number },
): Promise<{ overlaps: number; sections: number; waitsMs: number[] }> {
  const results = await Promise.all(
    workers.map((worker) =>
      worker.request<ContendResult>(
        { type: 'contend', contenders: 16, iterations: 3, criticalSectionMs: 2, ...command },
        'contended',
      ),
    ),
  );
  return {
    overlaps: results.reduce((sum, result) => sum + result.overlaps, 0),
    sections: results.reduce((sum, result) => sum + result.sections, 0),
    waitsMs: results.flatMap((result) => result.waitsMs),
  };
}

describe('Locks across processes (real Redis, real child processes)', () => {
  let server: RedisServer;
  let redis: Redis;
  const services = new LockServices();
  const workers: ChildWorker[] = [];
  const startWorker = async () => {
    const worker = await startLockWorker();
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });

  /**
   * A fenced table with one row, and a child process that took lock `name` (600 ms watchdog lease)
   * and was then SIGSTOPped: its lease runs out while it believes it holds the lock.
   */
  const pausedHolderOverFencedDoc = async (name: string) => {
    const mysqlUrl = await createTestDatabase(name.replace(/-/g, '_'));
    const db = await createConnection(mysqlUrl);
    await db.query(
      'CREATE TABLE fenced_doc (id INT PRIMARY KEY, value VARCHAR(50) NOT NULL, fence BIGINT NOT NULL DEFAULT 0)',
    );
    await db.query("INSERT INTO fenced_doc (id, value) VALUES (1, 'initial')");
    const paused = await startWorker();
    const first = await paused.request<{ token: number }>(
      { type: 'hold', redisUrl: server.url, name, watchdogTimeoutMs: 600 },
      'held',
    );
    paused.child.kill('SIGSTOP');
    return { mysqlUrl, db, paused, first };
  };

  /** The paused holder resumes and writes with its old token: the fenced table refuses it. */
  const expectStaleWriteRefused = async (paused: ChildWorker, mysqlUrl: string) => {
    paused.child.kill('SIGCONT');
    const stale = await paused.request<{ type: string; error?: string }>(
      { type: 'fenced-write', mysqlUrl, table: 'fenced_doc', id: 1, value: 'stale holder' },
      'written',
      'refused',
    );
    expect(stale).toEqual({ type: 'refused', error: 'StaleFencingTokenError' });
  };
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    services.closeAll();
    redis?.disconnect();
    await server?.stop();
  });

  describe('mutual exclusion: 64 contenders over 4 processes on one key', () => {
    let pool: ChildWorker[];
    beforeAll(async () => {
      pool = await Promise.all([1, 2, 3, 4].map(() => startWorker()));
    });

    it('never lets two critical sections overlap, and every contender gets its turns', async () => {
      const result = await contendFromProcesses(pool, { redisUrl: server.url, name: 'hot-key', mode: 'redis' });
      const sorted = [...result.waitsMs].sort((a, b) => a - b);
      process.stdout.write(
        `hot key over 4 processes: overlaps=${result.overlaps} p50=${sorted[sorted.length >> 1].toFixed(1)}ms max=${sorted[sorted.length - 1].toFixed(1)}ms\n`,
      );
      expect(result.sections).toBe(64 * 3);
      expect(result.overlaps).toBe(0);
      // No starvation: the longest wait stays within a small multiple of a full round of 64 sections.
      const longest = Math.max(...result.waitsMs);
      const mean = result.waitsMs.reduce((sum, wait) => sum + wait, 0) / result.waitsMs.length;
      expect(longest).toBeLessThan(Math.max(8 * mean, 2000));
    });

    it.each([0, 1, 64])(
      'never overlaps with localBurst %i either (strict alternation, short and long local bursts)',
      async (localBurst) => {
        const result = await contendFromProcesses(pool, {
          redisUrl: server.url,
          name: `hot-key-burst-${localBurst}`,
          mode: 'redis',
          localBurst,
        });
        expect(result.sections).toBe(64 * 3);
        expect(result.overlaps).toBe(0);
      },
    );

    it('catches overlaps when each process only has an in-process lock (negative control)', async () => {
      const result = await contendFromProcesses(pool, { redisUrl: server.url, name: 'hot-key-local', mode: 'local' });
      expect(result.sections).toBe(64 * 3);
      expect(result.overlaps).toBeGreaterThan(0);
    });
  });

  it('frees the lock of a SIGKILLed holder once its lease runs out', async () => {
    const holder = await startWorker();
    await holder.request({ type: 'hold', redisUrl: server.url, name: 'killed', watchdogTimeoutMs: 1000 }, 'held');
    await holder.kill('SIGKILL');
    const startedAt = performance.now();
    const lock = services.create([server.url]).getLock('killed');
    const handle = await lock.tryLock({ waitTime: 5000 });
    expect(handle).not.toBeNull();
    // Not before the dead holder's last renewed lease ran out.
    expect(performance.now() - startedAt).toBeGreaterThan(200);
    await handle!.unlock();
  });

  it('gives the next process a token above every local one after a SIGKILL in the middle of local hand-overs', async () => {
    const holder = await startWorker();
    const { tokens } = await holder.request<{ tokens: number[] }>(
      { type: 'chain', redisUrl: server.url, name: 'killed-chain', owners: 4, holdMs: 30, watchdogTimeoutMs: 1000 },
      'chained',
    );
    // Handed on in the process without Redis: consecutive tokens of one grant.
    expect(tokens).toEqual([0, 1, 2, 3].map((k) => tokens[0] + k));
    await holder.kill('SIGKILL');
    const handle = await services.create([server.url]).getLock('killed-chain').tryLock({ waitTime: 5000 });
    expect(handle).not.toBeNull();
    expect(handle!.fencingToken).toBeGreaterThan(tokens[3]);
    await handle!.unlock();
  });

  it('skips a SIGKILLed process queued for the lock within its bound (no stall for the processes behind it)', async () => {
    const holder = services.create([server.url]);
    const held = await holder.getLock('queued-dead').lock();
    const dead = await startWorker();
    const deadWaits = dead.request({ type: 'hold', redisUrl: server.url, name: 'queued-dead' }, 'held');
    deadWaits.catch(() => undefined);
    await sleep(300);
    const next = await startWorker();
    const nextHolds = next.request<{ token: number }>(
      { type: 'hold', redisUrl: server.url, name: 'queued-dead' },
      'held',
    );
    await sleep(300);
    // The dead process is first in the queue: the release grants it the lock, with a short first lease.
    await dead.kill('SIGKILL');
    const releasedAt = performance.now();
    await held.unlock();
    const { token } = await nextHolds;
    expect(token).toBeGreaterThan(held.fencingToken);
    // Bound: the dead waiter's first lease (2 s) plus one park of the next waiter (1 s) — about 3 s
    // (asserted with room for a loaded CI machine; a full watchdog lease would be 30 s).
    expect(performance.now() - releasedAt).toBeLessThan(5000);
  });

  it('a direct grant carries a larger token: the stale write of a paused (SIGSTOP) earlier holder is rejected', async () => {
    const { mysqlUrl, db, paused, first } = await pausedHolderOverFencedDoc('fenced-grant');
    // Its lease runs out; this process takes the lock, and another process queues behind it.
    const middle = await services.create([server.url]).getLock('fenced-grant').lock({ waitTime: 5000 });
    const granted = await startWorker();
    const grantedHolds = granted.request<{ token: number }>(
      { type: 'hold', redisUrl: server.url, name: 'fenced-grant' },
      'held',
    );
    await sleep(300);
    await middle.unlock();
    const { token } = await grantedHolds;
    expect(token).toBeGreaterThan(middle.fencingToken);
    expect(middle.fencingToken).toBeGreaterThan(first.token);
    expect(
      await granted.request(
        { type: 'fenced-write', mysqlUrl, table: 'fenced_doc', id: 1, value: 'granted' },
        'written',
      ),
    ).toEqual({ type: 'written' });
    await expectStaleWriteRefused(paused, mysqlUrl);
    const [rows] = await db.query('SELECT value, fence FROM fenced_doc WHERE id = 1');
    expect(rows).toEqual([{ value: 'granted', fence: token }]);
    await db.end();
  });

  describe('fair lock (getFairLock): FIFO across processes', () => {
    const queue = async (worker: ChildWorker, name: string) => {
      const held = worker.request<{ token: number }>(
        { type: 'hold', redisUrl: server.url, name, fair: true, holdMs: 100 },
        'held',
      );
      held.catch(() => undefined);
      await sleep(250);
      // Wrapped: an async function's returned promise would be awaited with it.
      return { held };
    };

    it('grants in arrival order across processes, not by process or by who polls first', async () => {
      const holder = services.create([server.url]).getFairLock('fair-order');
      const first = await holder.lock();
      const pool = await Promise.all([1, 2, 3, 4].map(() => startWorker()));
      // Arrival order 2, 0, 3, 1 (not the start order), each queued while the lock is held.
      const order = [2, 0, 3, 1];
      const grants: number[] = [];
      const waiting: Promise<unknown>[] = [];
      for (const index of order) {
        const { held } = await queue(pool[index], 'fair-order');
        waiting.push(held.then(() => grants.push(index)));
      }
      await first.unlock();
      await Promise.all(waiting);
      expect(grants).toEqual(order);
    });

    it.each([
      { kind: 'fair', expected: ['P1', 'W', 'P2'] },
      // Negative control: the default lock hands over to the releasing process's own next waiter.
      { kind: 'default', expected: ['P1', 'P2', 'W'] },
    ])(
      '$kind lock: owners of one process and of another, in arrival order P1, W, P2 → $expected',
      async ({ kind, expected }) => {
        const service = services.create([server.url]);
        const name = `fair-interleaved-${kind}`;
        const lockOf = () => (kind === 'fair' ? service.getFairLock(name) : service.getLock(name));
        const first = await lockOf().lock();
        const grants: string[] = [];
        const local = (label: string) =>
          lockOf()
            .lock()
            .then(async (handle) => {
              grants.push(label);
              await sleep(100);
              await handle.unlock();
            });
        const p1 = local('P1');
        await sleep(250);
        const worker = await startWorker();
        const w = worker
          .request({ type: 'hold', redisUrl: server.url, name, fair: kind === 'fair', holdMs: 100 }, 'held')
          .then(() => grants.push('W'));
        await sleep(250);
        const p2 = local('P2');
        await sleep(250);
        await first.unlock();
        await Promise.all([p1, w, p2]);
        expect(grants).toEqual(expected);
      },
    );

    it('a SIGKILLed waiter in the middle of the queue stalls it for its bound at most, once', async () => {
      const holder = services.create([server.url]).getFairLock('fair-dead');
      const first = await holder.lock();
      const [before, dead, after] = await Promise.all([1, 2, 3].map(() => startWorker()));
      const grants: string[] = [];
      const beforeHeld = (await queue(before, 'fair-dead')).held.then(() => grants.push('before'));
      await queue(dead, 'fair-dead');
      const afterHeld = (await queue(after, 'fair-dead')).held.then(() => grants.push('after'));
      await dead.kill('SIGKILL');
      const releasedAt = performance.now();
      await first.unlock();
      await Promise.all([beforeHeld, afterHeld]);
      expect(grants).toEqual(['before', 'after']);
      // The dead waiter's listing lapses within ~2 s of its last re-listing (or its 2 s first lease
      // runs out if it was granted the lock): about 3 s, asserted with room for a loaded machine.
      expect(performance.now() - releasedAt).toBeLessThan(5000);
    });
  });

  it('rejects the stale write of a holder paused (SIGSTOP) past its lease, by fencing token', async () => {
    const { mysqlUrl, db, paused, first } = await pausedHolderOverFencedDoc('fenced');
    const later = services.create([server.url]);
    const handle = await later.getLock('fenced').tryLock({ waitTime: 5000 });
    expect(handle).not.toBeNull();
    expect(handle!.fencingToken).toBeGreaterThan(first.token);

    const update = fencedUpdate({
      table: 'fenced_doc',
      key: { column: 'id', value: 1 },
      set: { value: 'later holder' },
      token: handle!.fencingToken,
    });
    const [result] = await db.execute(update.sql, update.params as (string | number)[]);
    assertFencedWrite((result as { affectedRows: number }).affectedRows, {
      table: 'fenced_doc',
      token: handle!.fencingToken,
    });

    await expectStaleWriteRefused(paused, mysqlUrl);
    const [rows] = await db.query('SELECT value, fence FROM fenced_doc WHERE id = 1');
    expect(rows).toEqual([{ value: 'later holder', fence: handle!.fencingToken }]);
    await handle!.unlock();
    await db.end();
  });
});

describe('Redis restart while locks are held', () => {
  let server: RedisServer;
  const services = new LockServices();

  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    services.closeAll();
    await server?.stop();
  });

  it('signals lock-lost to every holder, rejects unlock with LockLostError, and does not crash', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const service = services.create([server.url], { watchdogTimeoutMs: 600 });
      const lostEvents: string[] = [];
      service.onLockLost((event) => lostEvents.push(`${event.name}:${event.reason}`));
      const handles = await Promise.all(['r1', 'r2', 'r3'].map((name) => service.getLock(name).lock()));
      await server.process.restart(); // restarts empty: the keys are gone
      await sleep(1500);
      for (const handle of handles) {
        expect(handle.signal.aborted).toBe(true);
        expect(handle.signal.reason).toBeInstanceOf(LockLostError);
        await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
      }
      expect(lostEvents.sort()).toEqual(['r1:expired-or-taken', 'r2:expired-or-taken', 'r3:expired-or-taken']);
      // The service is still usable after the restart.
      const again = await service.getLock('r1').tryLock({ waitTime: 2000 });
      expect(again).not.toBeNull();
      await again!.unlock();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('signals lock-lost when Redis stays unreachable past the lease', async () => {
    const service = services.create([server.url], { watchdogTimeoutMs: 600 });
    const handle = await service.getLock('down').lock();
    server.process.pause(); // SIGSTOP: the connection stays open but nothing answers
    try {
      await sleep(1200);
      expect(handle.signal.aborted).toBe(true);
    } finally {
      server.process.resume();
    }
    await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
  });
});
