import { AsyncLocalStorage } from 'node:async_hooks';
import { Redis } from 'ioredis';
import { InvalidLockOptionError } from '../src/lock-options';
import { LockService } from '../src/lock.service';
import { lockScripts } from '../src/lock-scripts';
import { type RedisServer, startTestRedis } from './support/repo';
import { LockServices } from './support/lock-services';

describe('Lock options and listeners that would wedge or corrupt a lock (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  const services = new LockServices();

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    services.closeAll();
    redis?.disconnect();
    await server?.stop();
  });

  it.each([Infinity, NaN, 1e20, 2 ** 63, 2 ** 31, 0, -5, 1500.5])(
    'refuses leaseTime %p with a typed RangeError before writing anything',
    async (leaseTime) => {
      const locks = services.create([server.url]);
      const name = `lease-${String(leaseTime)}`;
      await expect(locks.getLock(name).tryLock({ leaseTime })).rejects.toBeInstanceOf(InvalidLockOptionError);
      await expect(locks.getLock(name).lock({ leaseTime })).rejects.toBeInstanceOf(RangeError);
      await expect(locks.redLock(name).tryLock({ leaseTime })).rejects.toBeInstanceOf(InvalidLockOptionError);
      expect(await redis.exists(`lock:{${name}}`)).toBe(0);
    },
  );

  it.each([NaN, -1, 1.5, Infinity])(
    'refuses localBurst %p when the service is made, not at a release',
    (localBurst) => {
      expect(() => new LockService({ instanceId: 'burst', nodes: [redis], localBurst })).toThrow(RangeError);
    },
  );

  it.each([NaN, -1, 2 ** 31])('refuses waitTime %p', async (waitTime) => {
    const locks = services.create([server.url]);
    await expect(locks.getLock('wait').tryLock({ waitTime })).rejects.toBeInstanceOf(InvalidLockOptionError);
  });

  it('accepts the edges: a 1 ms lease, a 2^31−1 ms lease, waiting forever', async () => {
    const locks = services.create([server.url]);
    const short = await locks.getLock('edge-1').tryLock({ leaseTime: 1 });
    expect(short).not.toBeNull();
    const long = await locks.getLock('edge-2').lock({ leaseTime: 2 ** 31 - 1, waitTime: Infinity });
    expect(await redis.pttl('lock:{edge-2}')).toBeGreaterThan(2 ** 30);
    await long.unlock();
  });

  it('refuses a bad lease in Lua as well, before any write (a caller that skipped the JS check)', async () => {
    for (const lease of ['inf', 'nan', '0', '-1', '1e20', '2147483648', '1.5']) {
      await expect(
        lockScripts.acquire.run(redis, ['lock:{raw}', 'lock:{raw}:fence'], ['someone', lease]),
      ).rejects.toThrow(/invalid lease/);
      expect(await redis.exists('lock:{raw}', 'lock:{raw}:fence')).toBe(0);
    }
  });

  it('contains a throwing or rejecting event listener: the caller succeeds and the name is not wedged', async () => {
    const locks = services.create([server.url]);
    const failures: string[] = [];
    const offAcquired = locks.onLockAcquired(() => {
      failures.push('acquired');
      throw new Error('listener bug');
    });
    const offReleased = locks.onLockReleased(() => {
      failures.push('released');
      return Promise.reject(new Error('async listener bug')) as unknown as void;
    });
    try {
      expect(await locks.withLock('wedge', { waitTime: 1000 }, () => Promise.resolve('first'))).toBe('first');
      // Before the fix the second one timed out: the first never left the name's local queue.
      expect(await locks.withLock('wedge', { waitTime: 1000 }, () => Promise.resolve('second'))).toBe('second');
      expect(await redis.exists('lock:{wedge}')).toBe(0);
      expect(failures).toContain('acquired');
    } finally {
      offAcquired();
      offReleased();
    }
  });
});

describe('The lock library’s timers, connections and events run in no caller’s async context (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  const services = new LockServices();

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    services.closeAll();
    redis?.disconnect();
    await server?.stop();
  });

  it('signals B’s lost lock outside A’s context, although A’s acquisition started the watchdog', async () => {
    const locks = services.create([server.url], { watchdogTimeoutMs: 1000 });
    // Another library's store, as nestjs-cls keeps one per request.
    const requestStore = new AsyncLocalStorage<string>();
    const seen: { where: string; store: string | undefined; owner: string | undefined }[] = [];
    const offLost = locks.onLockLost(() =>
      seen.push({ where: 'lockLost', store: requestStore.getStore(), owner: locks.currentOwnerId() }),
    );
    try {
      // A's request takes a watchdog lock first: the watchdog timer is created in A's frames.
      const a = await requestStore.run('request-A', () =>
        locks.withLock('ctx-a', {}, async () => {
          const b = await requestStore.run('request-B', () => locks.getLock('ctx-b').lock());
          b.signal.addEventListener('abort', () =>
            seen.push({ where: 'abort', store: requestStore.getStore(), owner: locks.currentOwnerId() }),
          );
          // B's lock vanishes in Redis; the next watchdog tick finds out.
          await redis.del('lock:{ctx-b}');
          const deadline = Date.now() + 5000;
          while (seen.length < 2 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return 'done';
        }),
      );
      expect(a).toBe('done');
      expect(seen).toEqual([
        { where: 'abort', store: undefined, owner: undefined },
        { where: 'lockLost', store: undefined, owner: undefined },
      ]);
    } finally {
      offLost();
    }
  });
});
