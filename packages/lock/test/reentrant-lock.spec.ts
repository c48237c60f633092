import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockLostError, LockNotHeldError, LockTimeoutError, LockUnavailableError } from '../src/lock.errors';
import type { LockEngine } from '../src/lock-engine';
import type { LockService } from '../src/lock.service';
import { SimpleLock, type RedisServer, startTestRedis } from './support/repo';
import { LockServices } from './support/lock-services';

describe('ReentrantLock (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  const services = new LockServices();
  let replicaA: LockService;
  let replicaB: LockService;
  let name = '';
  let counter = 0;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    replicaA = services.create([server.url]);
    replicaB = services.create([server.url]);
  });
  beforeEach(() => {
    name = `res-${++counter}`;
  });
  afterAll(async () => {
    services.closeAll();
    redis?.disconnect();
    await server?.stop();
  });

  describe('reentrancy', () => {
    it('reentrant: false opens no owner frame, so the same lock taken inside waits for the outer hold', async () => {
      await replicaA.withLock(name, { reentrant: false }, async () => {
        expect(replicaA.currentOwnerId()).toBeUndefined();
        await expect(replicaA.withLock(name, { waitTime: 100 }, () => Promise.resolve())).rejects.toBeInstanceOf(
          LockTimeoutError,
        );
      });
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
      // The control: by default the same nesting re-enters.
      await replicaA.withLock(name, {}, async () => {
        expect(replicaA.currentOwnerId()).toBeDefined();
        await replicaA.withLock(name, { waitTime: 100 }, () => Promise.resolve());
      });
    });

    it('re-enters within one async call chain and releases at hold count zero', async () => {
      await replicaA.withLock(name, {}, async () => {
        const inner = await replicaA.getLock(name).tryLock();
        expect(inner?.holdCount).toBe(2);
        await replicaA.withLock(name, {}, async () => {
          expect(await redis.hget(`lock:{${name}}`, replicaA.currentOwnerId()!)).toBe('3');
        });
        await inner!.unlock();
        expect(await redis.hget(`lock:{${name}}`, replicaA.currentOwnerId()!)).toBe('1');
      });
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it('supports deep nesting', async () => {
      const depth = 25;
      const nest = async (level: number): Promise<number> =>
        level === depth ? level : replicaA.withLock(name, {}, () => nest(level + 1));
      expect(await nest(0)).toBe(depth);
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it('keeps the same fencing token for re-entries', async () => {
      await replicaA.withLock(name, {}, async (outer) => {
        await replicaA.withLock(name, {}, (inner) => {
          expect(inner.fencingToken).toBe(outer.fencingToken);
          return Promise.resolve();
        });
      });
    });
  });

  describe('owner isolation', () => {
    it('makes two concurrent async chains in one process different owners that exclude each other', async () => {
      const events: string[] = [];
      const section = (id: string) =>
        replicaA.withLock(name, {}, async () => {
          events.push(`${id}:in`);
          await sleep(30);
          events.push(`${id}:out`);
        });
      await Promise.all([section('x'), section('y')]);
      expect(events).toEqual(['x:in', 'x:out', 'y:in', 'y:out']);
    });

    it('gives a lock object created outside any chain its own owner', async () => {
      const first = await replicaA.getLock(name).tryLock();
      expect(first).not.toBeNull();
      expect(await replicaA.getLock(name).tryLock()).toBeNull();
      await first!.unlock();
    });

    it('excludes another replica', async () => {
      const held = await replicaA.getLock(name).tryLock();
      expect(await replicaB.getLock(name).tryLock()).toBeNull();
      await held!.unlock();
      expect(await replicaB.getLock(name).tryLock()).not.toBeNull();
    });
  });

  describe('waiting', () => {
    it('wakes a waiter from another replica by pub/sub as soon as the lock is released', async () => {
      const held = await replicaA.getLock(name).tryLock({ leaseTime: 20_000 });
      const waiting = replicaB.getLock(name).tryLock({ waitTime: 10_000 });
      await sleep(100);
      const releasedAt = performance.now();
      await held!.unlock();
      const acquired = await waiting;
      expect(acquired).not.toBeNull();
      // The holder's lease had 20 s left: only the release message can explain a prompt wake-up.
      expect(performance.now() - releasedAt).toBeLessThan(500);
      await acquired!.unlock();
    });

    it('rejects lock({ waitTime: 0 }) on a locally busy lock instead of throwing', async () => {
      const held = await replicaA.getLock(name).tryLock();
      let attempt: Promise<unknown> | undefined;
      expect(() => {
        attempt = replicaA.getLock(name).lock({ waitTime: 0 });
      }).not.toThrow();
      await expect(attempt).rejects.toBeInstanceOf(LockTimeoutError);
      await held!.unlock();
    });

    it('returns null from tryLock and rejects lock() with LockTimeoutError after waitTime', async () => {
      const held = await replicaA.getLock(name).tryLock();
      const startedAt = performance.now();
      expect(await replicaB.getLock(name).tryLock({ waitTime: 200 })).toBeNull();
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
      await expect(replicaB.getLock(name).lock({ waitTime: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
      await held!.unlock();
    });

    it('hands the lock to the next local waiter within the release, with a new fencing token', async () => {
      const first = await replicaA.getLock(name).tryLock();
      const next = replicaA.withLock(name, { waitTime: 5000 }, (context) => Promise.resolve(context.fencingToken));
      await sleep(20);
      await first!.unlock();
      expect(await next).toBeGreaterThan(first!.fencingToken);
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it('releases a hand-over whose waiter gave up while the release was in flight', async () => {
      const first = await replicaA.getLock(name).tryLock();
      // A fixed lease: handed over in Redis (a watchdog waiter would get it without a round trip).
      const waiter = replicaA.getLock(name).tryLock({ waitTime: 300, leaseTime: 5000 });
      await sleep(20);
      server.process.pause(); // the release below is sent, but answered only after the waiter gave up
      const releasing = first!.unlock();
      await sleep(400);
      server.process.resume();
      expect(await waiter).toBeNull();
      await releasing;
      await sleep(50);
      // Nobody holds it: the orphaned hand-over was released, so another owner gets it at once.
      const other = await replicaB.getLock(name).tryLock();
      expect(other).not.toBeNull();
      await other!.unlock();
    });

    it('serves waiters of one process in arrival order', async () => {
      const held = await replicaA.getLock(name).tryLock();
      const order: number[] = [];
      const waiters = [1, 2, 3, 4, 5].map((id) =>
        replicaA.withLock(name, { waitTime: 5000 }, async () => {
          order.push(id);
          await sleep(5);
        }),
      );
      await sleep(50);
      await held!.unlock();
      await Promise.all(waiters);
      expect(order).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe('local hand-overs (no round trip)', () => {
    /** Scripts (EVALSHA calls) the server ran, from INFO: a hand-over that needs none adds none. */
    const scriptsRun = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);

    /** `count` owners of `service` queued on `name` behind a first holder; each records its token and holds `holdMs`. */
    async function queueBehindFirst(service: LockService, count: number, holdMs = 0) {
      const first = (await service.getLock(name).tryLock())!;
      const tokens: number[] = [];
      const fields: string[][] = [];
      const waiters = Array.from({ length: count }, () =>
        service.withLock(name, { waitTime: 10_000 }, async ({ fencingToken }) => {
          tokens.push(fencingToken);
          fields.push(Object.keys(await redis.hgetall(`lock:{${name}}`)));
          await sleep(holdMs);
        }),
      );
      await sleep(30);
      return { first, tokens, fields, waiters };
    }

    it('passes a watchdog lock to the next local waiter without telling Redis, each with the next token', async () => {
      const { first, tokens, fields, waiters } = await queueBehindFirst(replicaA, 3);
      const firstOwner = Object.keys(await redis.hgetall(`lock:{${name}}`));
      const before = await scriptsRun();
      await first.unlock();
      await Promise.all(waiters);
      expect(tokens).toEqual([first.fencingToken + 1, first.fencingToken + 2, first.fencingToken + 3]);
      // Redis still names the first holder while the others hold it: the hold was carried on.
      expect(fields).toEqual([firstOwner, firstOwner, firstOwner]);
      // One script: the last holder's release. No hand-over went to Redis.
      expect((await scriptsRun()) - before).toBe(1);
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
      // The next token Redis issues is above every token handed out locally.
      const later = await replicaB.getLock(name).tryLock();
      expect(later!.fencingToken).toBeGreaterThan(first.fencingToken + 16);
      await later!.unlock();
    });

    it('goes to Redis for a new grant after LOCAL_TOKENS local hand-overs, tokens still increasing', async () => {
      const { first, tokens, fields, waiters } = await queueBehindFirst(replicaA, 20);
      await first.unlock();
      await Promise.all(waiters);
      expect(tokens.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, i) => first.fencingToken + 1 + i));
      // The 17th waiter got its lock from Redis (its own field, a token above the reserved ones) and
      // carried it on locally from there.
      expect(tokens[16]).toBeGreaterThan(first.fencingToken + 16);
      expect(tokens.slice(17)).toEqual([tokens[16] + 1, tokens[16] + 2, tokens[16] + 3]);
      expect(fields[16]).not.toEqual(fields[15]);
      expect(fields[17]).toEqual(fields[16]);
    });

    it('keeps a carried hold renewed by the watchdog under its Redis field, past several leases', async () => {
      const fastWatchdog = services.create([server.url], { watchdogTimeoutMs: 300 });
      const { first, tokens, waiters } = await queueBehindFirst(fastWatchdog, 4, 250);
      const lost: string[] = [];
      fastWatchdog.onLockLost((event) => lost.push(event.owner));
      await first.unlock();
      // Meanwhile another process waits: it must not get the lock while the carried holds run (1 s, over 3 leases).
      const other = replicaB.getLock(name).tryLock({ waitTime: 700 });
      expect(await other).toBeNull();
      await Promise.all(waiters);
      expect(tokens).toHaveLength(4);
      expect(lost).toEqual([]);
    });

    it('leaves a fixed lease to Redis: the waiter gets the lock under its own field', async () => {
      const first = (await replicaA.getLock(name).tryLock())!;
      const next = replicaA.withLock(name, { waitTime: 5000, leaseTime: 5000 }, async ({ fencingToken }) => ({
        fencingToken,
        fields: await redis.hgetall(`lock:{${name}}`),
        owner: replicaA.currentOwnerId(),
      }));
      await sleep(20);
      await first.unlock();
      const { fencingToken, fields, owner } = await next;
      expect(fencingToken).toBeGreaterThan(first.fencingToken + 16);
      expect(fields).toEqual({ [owner!]: '1' });
    });

    it('re-enters, checks and answers isHeld through the carrying field; the first owner cannot release it', async () => {
      const firstLock = replicaA.getLock(name);
      const first = (await firstLock.tryLock())!;
      const next = replicaA.withLock(name, { waitTime: 5000 }, async (outer) => {
        const lock = replicaA.getLock(name);
        expect(await lock.isHeld()).toBe(true);
        // The first owner's Redis field carries this hold: its owner neither holds nor may release it.
        expect(await firstLock.isHeld()).toBe(false);
        await expect(firstLock.unlock()).rejects.toBeInstanceOf(LockNotHeldError);
        const inner = (await lock.tryLock())!;
        expect(inner.holdCount).toBe(2);
        expect(inner.fencingToken).toBe(outer.fencingToken);
        await inner.unlock();
        await outer.assertHeld('redis');
        return Object.values(await redis.hgetall(`lock:{${name}}`));
      });
      await sleep(20);
      await first.unlock();
      expect(await next).toEqual(['1']);
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it("never lets a lost carried hold's late unlock end the first owner's new hold under the same field", async () => {
      const firstLock = replicaA.getLock(name);
      const first = (await firstLock.tryLock())!;
      const [field] = Object.keys(await redis.hgetall(`lock:{${name}}`));
      const carriedP = replicaA.getLock(name).lock({ waitTime: 5000 });
      await sleep(20);
      await first.unlock();
      const carried = await carriedP;
      expect(carried.fencingToken).toBe(first.fencingToken + 1);
      // The carried hold is found lost (as when its renewals fail) while its field is still in Redis.
      const { holds } = (replicaA as unknown as { engine: LockEngine }).engine;
      holds.markLost(holds.entry(`lock:{${name}}`)!, 'expired-or-taken');
      expect(carried.signal.aborted).toBe(true);
      // The first owner takes the lock anew under its field; the lost hold's unlock comes right after,
      // on the same connection.
      const again = firstLock.tryLock();
      await expect(carried.unlock()).rejects.toBeInstanceOf(LockLostError);
      const handle = (await again)!;
      expect(handle.fencingToken).toBeGreaterThan(carried.fencingToken);
      expect(await redis.hgetall(`lock:{${name}}`)).toEqual({ [field]: '1' });
      await handle.unlock();
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it("fails a released handle's check although its field now carries the next owner's hold", async () => {
      const first = (await replicaA.getLock(name).tryLock())!;
      const next = replicaA.getLock(name).lock({ waitTime: 5000 });
      await sleep(20);
      await first.unlock();
      const second = await next;
      await expect(first.assertHeld('redis')).rejects.toBeInstanceOf(LockNotHeldError);
      await expect(first.assertHeld('lease')).rejects.toBeInstanceOf(LockNotHeldError);
      await second.assertHeld('redis');
      await second.unlock();
    });

    it('hands over through Redis only with localBurst 0', async () => {
      const strict = services.create([server.url], { localBurst: 0 });
      const { first, tokens, fields, waiters } = await queueBehindFirst(strict, 2);
      await first.unlock();
      await Promise.all(waiters);
      expect(tokens[0]).toBeGreaterThan(first.fencingToken + 16);
      expect(tokens[1]).toBeGreaterThan(tokens[0] + 16);
      expect(fields[0]).not.toEqual(fields[1]);
    });
  });

  describe('leases', () => {
    it('lets a fixed lease expire without renewal and signals the holder', async () => {
      const held = await replicaA.getLock(name).tryLock({ leaseTime: 300 });
      await sleep(450);
      expect(held!.signal.aborted).toBe(true);
      expect(await replicaB.getLock(name).tryLock()).not.toBeNull();
      await expect(held!.unlock()).rejects.toBeInstanceOf(LockLostError);
    });

    it('keeps a watchdog lock alive for three times its lease', async () => {
      const fastWatchdog = services.create([server.url], { watchdogTimeoutMs: 400 });
      await fastWatchdog.withLock(name, {}, async ({ signal }) => {
        await sleep(1200);
        expect(signal.aborted).toBe(false);
        expect(await replicaB.getLock(name).tryLock()).toBeNull();
        expect(await redis.pttl(`lock:{${name}}`)).toBeGreaterThan(0);
      });
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });
  });

  describe('release safety', () => {
    it('refuses unlock by a non-owner and deletes nothing', async () => {
      const held = await replicaA.getLock(name).tryLock();
      await expect(replicaB.getLock(name).unlock()).rejects.toBeInstanceOf(LockNotHeldError);
      expect(await redis.exists(`lock:{${name}}`)).toBe(1);
      await held!.unlock();
    });

    it("never deletes B's lock when A's lease expired and A releases late (the seed's v2 bug)", async () => {
      const a = await replicaA.getLock(name).tryLock({ leaseTime: 200 });
      await sleep(300); // A is "paused" past its lease; the key expired
      const b = await replicaB.getLock(name).tryLock({ leaseTime: 10_000 });
      expect(b).not.toBeNull();
      await expect(a!.unlock()).rejects.toBeInstanceOf(LockLostError);
      expect(await redis.exists(`lock:{${name}}`)).toBe(1);
      expect(await replicaA.getLock(name).tryLock()).toBeNull(); // B still holds it
      await b!.unlock();
    });

    it("never lets a lost hold's late unlock delete the same owner's newer hold", async () => {
      const lockA = replicaA.getLock(name); // one owner for both of A's holds
      const stale = await lockA.tryLock({ leaseTime: 200 });
      await sleep(300); // lost: lease elapsed
      const other = await replicaA.getLock(name).tryLock(); // another owner of the same process
      await other!.unlock();
      const fresh = await lockA.tryLock({ leaseTime: 10_000 });
      expect(fresh).not.toBeNull();
      await expect(stale!.unlock()).rejects.toBeInstanceOf(LockLostError);
      expect(await redis.hget(`lock:{${name}}`, lockA.owner)).toBe('1');
      expect(fresh!.signal.aborted).toBe(false);
      await fresh!.unlock();
    });

    it('never re-enters a lock whose key vanished: the holder learns it lost it', async () => {
      const section = replicaA.withLock(name, {}, async ({ signal }) => {
        await redis.del(`lock:{${name}}`);
        await expect(replicaA.getLock(name).tryLock()).rejects.toBeInstanceOf(LockLostError);
        expect(signal.aborted).toBe(true);
        expect(await redis.exists(`lock:{${name}}`)).toBe(0);
      });
      await expect(section).rejects.toBeInstanceOf(LockLostError);
    });

    it('signals a holder at once when Redis gave its lock to another owner of the process', async () => {
      const held = await replicaA.getLock(name).lock();
      await redis.del(`lock:{${name}}`); // e.g. expired while the process was paused
      const redLock = await replicaA.redLock(name).tryLock(); // a single-node RedLock: no local gate
      expect(redLock).not.toBeNull();
      expect(held.signal.aborted).toBe(true);
      await expect(held.unlock()).rejects.toBeInstanceOf(LockLostError);
      await redLock!.unlock();
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });

    it('shows the same sequence breaking a plain DEL lock (negative control)', async () => {
      // v1: SET NX PX + unconditional DEL
      await redis.set(name, 'A', 'PX', 200, 'NX');
      await sleep(300);
      await redis.set(name, 'B', 'PX', 10_000, 'NX');
      await redis.del(name); // A's late release
      expect(await redis.get(name)).toBeNull(); // B's lock is gone: the bug v3 and ours prevent
      // v3 (SimpleLock) does not delete B's lock.
      const simpleA = new SimpleLock(redis, `${name}:v3`, 200);
      expect(await simpleA.tryLock()).toBe(true);
      await sleep(300);
      const simpleB = new SimpleLock(redis, `${name}:v3`, 10_000);
      expect(await simpleB.tryLock()).toBe(true);
      expect(await simpleA.unlock()).toBe(false);
      expect(await redis.exists(`${name}:v3`)).toBe(1);
    });
  });

  describe('forceUnlock', () => {
    it('frees a lock held by someone else and wakes waiters', async () => {
      await replicaA.getLock(name).tryLock();
      const waiting = replicaB.getLock(name).tryLock({ waitTime: 5000 });
      await sleep(50);
      expect(await replicaB.getLock(name).forceUnlock()).toBe(true);
      expect(await waiting).not.toBeNull();
    });
  });

  describe('isHeld and remainingTtl', () => {
    it('reports ownership and lease as Redis sees them', async () => {
      const lock = replicaA.getLock(name);
      expect(await lock.isHeld()).toBe(false);
      expect(await lock.remainingTtl()).toBe(-2);
      const handle = await lock.tryLock({ leaseTime: 5000 });
      expect(await lock.isHeld()).toBe(true);
      expect(await lock.remainingTtl()).toBeGreaterThan(4000);
      await handle!.unlock();
    });
  });

  describe('events', () => {
    it('reports first acquisitions with their wait, and waits that timed out', async () => {
      const acquired: { name: string; waitedMs: number }[] = [];
      const timedOut: { name: string; waitedMs: number }[] = [];
      const stopAcquired = replicaB.onLockAcquired((event) => acquired.push(event));
      const stopTimedOut = replicaB.onLockTimedOut((event) => timedOut.push(event));
      try {
        await replicaB.withLock(name, {}, async () => {
          await replicaB.withLock(name, {}, () => Promise.resolve()); // a re-entry: not reported
        });
        const held = await replicaA.getLock(name).tryLock();
        expect(await replicaB.getLock(name).tryLock()).toBeNull(); // no wait asked: not a timeout
        expect(await replicaB.getLock(name).tryLock({ waitTime: 100 })).toBeNull();
        const waiting = replicaB.getLock(name).tryLock({ waitTime: 5000 });
        await sleep(150);
        await held!.unlock();
        await (await waiting)!.unlock();
        expect(acquired.map((event) => event.name)).toEqual([name, name]);
        expect(acquired[0].waitedMs).toBeLessThan(acquired[1].waitedMs);
        expect(acquired[1].waitedMs).toBeGreaterThanOrEqual(140);
        expect(timedOut).toHaveLength(1);
        expect(timedOut[0].waitedMs).toBeGreaterThanOrEqual(95);
      } finally {
        stopAcquired();
        stopTimedOut();
      }
    });
  });

  describe('close', () => {
    it('ends waits in the local queue and on pub/sub at once, and refuses new acquisitions', async () => {
      const closing = services.create([server.url]);
      const holder = await replicaA.getLock(name).tryLock();
      // One waiter of `closing` waits in Redis (pub/sub), the other queues behind it in the process.
      const inRedis = closing.getLock(name).lock({ waitTime: 20_000 });
      const queued = closing.getLock(name).lock({ waitTime: 20_000 });
      await sleep(100);
      const startedAt = performance.now();
      closing.close();
      await expect(inRedis).rejects.toThrow(LockUnavailableError);
      await expect(queued).rejects.toMatchObject({ name: LockUnavailableError.name, lockName: name });
      expect(performance.now() - startedAt).toBeLessThan(1000);
      await expect(closing.getLock(`${name}:new`).tryLock()).rejects.toThrow(LockUnavailableError);
      await holder!.unlock();
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    });
  });
});
