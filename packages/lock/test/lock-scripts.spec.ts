import { Redis } from 'ioredis';
import { lockKeys } from '../src/lock-keys';
import * as acquireCall from '../src/calls/acquire.call';
import * as forceReleaseCall from '../src/calls/force-release.call';
import * as leaveQueueCall from '../src/calls/leave-queue.call';
import * as releaseCall from '../src/calls/release.call';
import * as renewCall from '../src/calls/renew.call';
import { LOCAL_TOKENS } from '../src/lua/local-tokens';
import { simpleReleaseScript, type RedisServer, startTestRedis } from './support/repo';

/** One typed function per script (src/calls/). */
const calls = { ...acquireCall, ...releaseCall, ...renewCall, ...forceReleaseCall, ...leaveQueueCall };

describe('lock Lua scripts through their typed wrappers (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let subscriber: Redis;
  const keys = lockKeys('lock:', 'scripts');
  const fail = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
  const acquire = (owner: string, leaseMs = 10_000, waiter?: { id: string; ttlMs: number }, reenter = false) =>
    calls.acquire(
      redis,
      { keys, owner, leaseMs, reenter, waiter: waiter && { ttlMs: waiter.ttlMs, processId: waiter.id } },
      (result) => result,
      fail,
    );
  /** The token of a first hold. */
  const firstHold = async (owner: string, leaseMs?: number) => {
    const result = await acquire(owner, leaseMs);
    if (result.kind !== 'granted') {
      throw new Error(`expected a first hold, got ${JSON.stringify(result)}`);
    }
    return result.fencingToken;
  };
  const reenter = (owner: string) => acquire(owner, 10_000, undefined, true);
  const release = (owner: string, next?: { owner: string; leaseMs: number }, final = false) =>
    calls.release(
      redis,
      next
        ? { keys, owner, mode: 'hand-over', leaseMs: 10_000, to: next, processId: 'proc-a', burstLimit: 0 }
        : final
          ? { keys, owner, mode: 'final' }
          : { keys, owner, mode: 'one', leaseMs: 10_000 },
      (result) => result,
      fail,
    );
  const renew = (owner: string, leaseMs: number) => calls.renew(redis, { lockKey: keys.lock, owner, leaseMs }, fail);

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    subscriber = new Redis(server.url);
  });
  beforeEach(() => redis.flushall());
  afterAll(async () => {
    redis?.disconnect();
    subscriber?.disconnect();
    await server?.stop();
  });

  it('uses one hash tag for the lock, its fence counter and its channel', () => {
    expect(keys).toMatchObject({
      lock: 'lock:{scripts}',
      fence: 'lock:{scripts}:fence',
      channel: 'lock:{scripts}:released',
      waiters: 'lock:{scripts}:waiters',
    });
    expect(keys.handoverKeys).toEqual([keys.lock, keys.channel, keys.waiters, keys.fence, keys.waiterInfo, keys.burst]);
    expect(keys.waiterInfo).toBe('lock:{scripts}:waiter-info');
  });

  describe('acquire.lua', () => {
    it('takes a free lock with hold count 1, a lease, and a fencing token', async () => {
      const token = await firstHold('a:1', 5000);
      expect(token).toBeGreaterThan(1_600_000_000_000_000);
      expect(await redis.hget(keys.lock, 'a:1')).toBe('1');
      const ttl = await redis.pttl(keys.lock);
      expect(ttl).toBeGreaterThan(4000);
      expect(ttl).toBeLessThanOrEqual(5000);
    });

    it('re-enters for the same owner, counting holds and keeping the token', async () => {
      const token = await firstHold('a:1');
      expect(await reenter('a:1')).toEqual({ kind: 'reentered', fencingToken: token, holdCount: 2 });
      expect(await reenter('a:1')).toEqual({ kind: 'reentered', fencingToken: token, holdCount: 3 });
    });

    it('treats a first acquisition by the current owner as one hold with a fresh token (a lost reply, a hand-over)', async () => {
      const token = await firstHold('a:1');
      await reenter('a:1');
      // Fresh and above the tokens the field may have carried locally (token + 1 … token + LOCAL_TOKENS).
      const again = await acquire('a:1');
      expect(again.kind === 'granted' && again.fencingToken).toBeGreaterThan(token + LOCAL_TOKENS);
      expect(await redis.hget(keys.lock, 'a:1')).toBe('1');
    });

    it('answers another owner with the remaining TTL and changes nothing', async () => {
      await acquire('a:1', 8000);
      const busy = await acquire('b:1');
      expect(busy.kind).toBe('busy');
      expect(busy.kind === 'busy' && busy.ttlMs).toBeGreaterThan(7000);
      expect(busy.kind === 'busy' && busy.ttlMs).toBeLessThanOrEqual(8000);
      expect(await redis.hgetall(keys.lock)).toEqual({ 'a:1': '1' });
    });

    it('answers a re-entry with a fresh, higher token if the fence counter was lost while held', async () => {
      const token = await firstHold('a:1');
      await redis.del(keys.fence);
      const reentry = await reenter('a:1');
      expect(reentry).toEqual({ kind: 'reentered', fencingToken: expect.any(Number), holdCount: 2 });
      expect(reentry.kind === 'reentered' && reentry.fencingToken).toBeGreaterThan(token);
    });

    it('never takes a lock anew for a re-entry whose hold is gone', async () => {
      expect(await reenter('a:1')).toEqual({ kind: 'busy', ttlMs: 0 });
      expect(await redis.exists(keys.lock)).toBe(0);
      await acquire('b:1', 8000);
      const refused = await reenter('a:1');
      expect(refused.kind === 'busy' && refused.ttlMs).toBeGreaterThan(7000);
      expect(await redis.hgetall(keys.lock)).toEqual({ 'b:1': '1' });
    });

    it('answers busy as 0 when the lock has no TTL', async () => {
      await redis.hset(keys.lock, 'a:1', 1);
      expect(await acquire('b:1')).toEqual({ kind: 'busy', ttlMs: 0 });
    });

    it('lists a busy caller as a waiting process when asked to, and unlists it once it acquires', async () => {
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      expect(await redis.zrange(keys.waiters, 0, -1)).toEqual(['proc-b']);
      await release('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      expect(await redis.zrange(keys.waiters, 0, -1)).toEqual([]);
    });

    it('issues strictly increasing tokens, also after the fence counter was lost', async () => {
      const tokens: number[] = [];
      for (let i = 0; i < 20; i++) {
        tokens.push(await firstHold(`o:${i}`));
        await release(`o:${i}`);
      }
      await redis.del(keys.fence);
      tokens.push(await firstHold('after:loss'));
      for (let i = 1; i < tokens.length; i++) {
        expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
      }
    });
  });

  describe('tokens left for local hand-overs', () => {
    it('issues every token above the LOCAL_TOKENS the previous holder could have handed on locally', async () => {
      const first = await firstHold('a:1');
      // The holder's process died while a local successor held first + LOCAL_TOKENS: the lease ran out.
      await redis.del(keys.lock);
      expect(await firstHold('b:1')).toBeGreaterThan(first + LOCAL_TOKENS);
      const handedOver = await release('b:1', { owner: 'b:2', leaseMs: 10_000 });
      // The counter is the Redis-issued token of the holder (local tokens lie above it, unstored).
      expect(handedOver.kind === 'handed-over' && handedOver.fencingToken).toBe(Number(await redis.get(keys.fence)));
      // Exactly the reserve is skipped, also when the counter is ahead of the server clock (which
      // would otherwise carry the next token past the local ones by itself).
      await redis.del(keys.lock);
      const ahead = Date.now() * 1000 + 1e9;
      await redis.set(keys.fence, String(ahead));
      expect(await firstHold('c:1')).toBe(ahead + 1 + LOCAL_TOKENS);
    });
  });

  describe('fencing tokens across a failover', () => {
    it('stay above every issued token when the counter comes back stale (a promoted replica that missed writes)', async () => {
      const issued: number[] = [];
      for (let i = 0; i < 5; i++) {
        issued.push(await firstHold(`f:${i}`));
        await release(`f:${i}`);
      }
      // The replica had replicated only the first token when it was promoted.
      await redis.set(keys.fence, String(issued[0]), 'PX', 604_800_000);
      const afterFailover = await firstHold('after:failover');
      expect(afterFailover).toBeGreaterThan(Math.max(...issued));
      // A hand-over follows the same rule.
      await redis.set(keys.fence, String(issued[0]));
      const handedOver = await release('after:failover', { owner: 'next:1', leaseMs: 10_000 });
      expect(handedOver.kind === 'handed-over' && handedOver.fencingToken).toBeGreaterThan(afterFailover);
    });
  });

  describe('release.lua', () => {
    it('refuses an owner that does not hold the lock and deletes nothing', async () => {
      await acquire('a:1');
      expect(await release('b:1')).toEqual({ kind: 'not-held' });
      expect(await release('b:1', undefined, true)).toEqual({ kind: 'not-held' });
      expect(await redis.hget(keys.lock, 'a:1')).toBe('1');
    });

    it('decrements re-entries and deletes at zero, publishing a release message', async () => {
      const messages: string[] = [];
      await subscriber.subscribe(keys.channel);
      subscriber.on('message', (channel: string) => messages.push(channel));
      await acquire('a:1');
      await reenter('a:1');
      expect(await release('a:1')).toEqual({ kind: 'left', holdCount: 1 });
      expect(await redis.exists(keys.lock)).toBe(1);
      expect(await release('a:1')).toEqual({ kind: 'released' });
      expect(await redis.exists(keys.lock)).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(messages).toEqual([keys.channel]);
      await subscriber.unsubscribe(keys.channel);
    });

    it('hands the lock straight to the next local owner when no other process waits', async () => {
      const first = await firstHold('a:1');
      const result = await release('a:1', { owner: 'a:2', leaseMs: 7000 });
      expect(result).toEqual({ kind: 'handed-over', fencingToken: expect.any(Number) });
      expect(result.kind === 'handed-over' && result.fencingToken).toBeGreaterThan(first);
      expect(await redis.hget(keys.lock, 'a:2')).toBe('1');
      expect(await redis.pttl(keys.lock)).toBeGreaterThan(6000);
    });

    it('grants the lock straight to the first queued process instead of handing it over locally (burst limit 0)', async () => {
      const messages: string[] = [];
      await subscriber.subscribe(keys.channel);
      const onMessage = (_channel: string, message: string) => messages.push(message);
      subscriber.on('message', onMessage);
      try {
        await acquire('a:1');
        await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
        expect(await release('a:1', { owner: 'a:2', leaseMs: 7000 })).toEqual({ kind: 'granted' });
        expect(await redis.hgetall(keys.lock)).toEqual({ 'b:1': '1' });
        // A short first lease: if proc-b died after queueing, the lock is free again soon.
        expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(2000);
        expect(await redis.zrange(keys.waiters, 0, -1)).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(messages).toHaveLength(1);
        expect(calls.parseGrant(messages[0])).toEqual({ owner: 'b:1', fencingToken: expect.any(Number) });
        // The waiter's next attempt finds itself the owner (a lost message costs one park, no more).
        expect((await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 })).kind).toBe('granted');
      } finally {
        subscriber.off('message', onMessage);
        await subscriber.unsubscribe(keys.channel);
      }
    });

    it('grants in arrival order of the processes, skipping listings that ran out', async () => {
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 1 });
      await acquire('c:1', 10_000, { id: 'proc-c', ttlMs: 5000 });
      await acquire('d:1', 10_000, { id: 'proc-d', ttlMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await release('a:1', undefined, true)).toEqual({ kind: 'granted' });
      expect(await redis.hgetall(keys.lock)).toEqual({ 'c:1': '1' });
      expect(await release('c:1', undefined, true)).toEqual({ kind: 'granted' });
      expect(await redis.hgetall(keys.lock)).toEqual({ 'd:1': '1' });
      expect(await release('d:1', undefined, true)).toEqual({ kind: 'released' });
    });

    it('hands over locally up to the burst limit while another process waits, then grants to it', async () => {
      const handOver = (from: string, to: string) =>
        calls.release(
          redis,
          {
            keys,
            owner: from,
            mode: 'hand-over',
            leaseMs: 10_000,
            to: { owner: to, leaseMs: 10_000 },
            processId: 'proc-a',
            burstLimit: 2,
          },
          (result) => result,
          fail,
        );
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      expect((await handOver('a:1', 'a:2')).kind).toBe('handed-over');
      expect((await handOver('a:2', 'a:3')).kind).toBe('handed-over');
      expect((await handOver('a:3', 'a:4')).kind).toBe('granted');
      expect(await redis.hgetall(keys.lock)).toEqual({ 'b:1': '1' });
      expect(await redis.exists(keys.burst)).toBe(0);
    });

    it('counts the hand-overs a process made without Redis toward the burst', async () => {
      const handOver = (localHandovers: number) =>
        calls.release(
          redis,
          {
            keys,
            owner: 'a:1',
            mode: 'hand-over',
            leaseMs: 10_000,
            to: { owner: 'a:2', leaseMs: 10_000 },
            processId: 'proc-a',
            burstLimit: 4,
            localHandovers,
          },
          (result) => result,
          fail,
        );
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      // 3 earlier local hand-overs + this one = 4: still within the burst of 4 (counted from 0).
      expect((await handOver(3)).kind).toBe('handed-over');
      expect(await redis.get(keys.burst)).toBe('4');
      await redis.flushall();
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      // 4 local hand-overs already used the burst: the queued process gets the lock.
      expect((await handOver(4)).kind).toBe('granted');
      expect(await redis.hgetall(keys.lock)).toEqual({ 'b:1': '1' });
    });

    it('leave-queue takes a giving-up waiter off the queue, or reports the grant it got meanwhile', async () => {
      const leave = (owner: string, processId: string) => calls.leaveQueue(redis, { keys, owner, processId }, fail);
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      // Another owner of the same process does not take b:1's place away.
      expect(await leave('b:2', 'proc-b')).toBe(0);
      expect(await redis.zrange(keys.waiters, 0, -1)).toEqual(['proc-b']);
      expect(await leave('b:1', 'proc-b')).toBe(0);
      expect(await redis.zrange(keys.waiters, 0, -1)).toEqual([]);
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 5000 });
      await release('a:1', undefined, true);
      const granted = Number(await redis.get(keys.fence));
      const token = await leave('b:1', 'proc-b');
      // A fresh token above the grant's (which the waiter never saw) and its local tokens.
      expect(token).toBeGreaterThan(granted + LOCAL_TOKENS);
      expect(await redis.hgetall(keys.lock)).toEqual({ 'b:1': '1' });
    });

    it('ignores waiters whose listing expired', async () => {
      await acquire('a:1');
      await acquire('b:1', 10_000, { id: 'proc-b', ttlMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await release('a:1', { owner: 'a:2', leaseMs: 7000 })).toEqual({
        kind: 'handed-over',
        fencingToken: expect.any(Number),
      });
    });
  });

  describe('release.lua, final hold', () => {
    it('releases the lock on the final hold even if Redis counted more holds', async () => {
      await acquire('a:1');
      await reenter('a:1');
      expect(await release('a:1', undefined, true)).toEqual({ kind: 'released' });
      expect(await redis.exists(keys.lock)).toBe(0);
    });
  });

  describe('renew.lua', () => {
    it('extends the lease of the owner only', async () => {
      await acquire('a:1', 1000);
      expect(await renew('b:1', 60_000)).toBe(false);
      expect(await redis.pttl(keys.lock)).toBeLessThanOrEqual(1000);
      expect(await renew('a:1', 60_000)).toBe(true);
      expect(await redis.pttl(keys.lock)).toBeGreaterThan(50_000);
    });

    it('reports a vanished lock', async () => {
      expect(await renew('a:1', 1000)).toBe(false);
    });
  });

  describe('force-release.lua', () => {
    it('deletes a lock whoever holds it', async () => {
      await acquire('a:1');
      expect(await calls.forceRelease(redis, { keys })).toBe(true);
      expect(await calls.forceRelease(redis, { keys })).toBe(false);
    });
  });

  describe('sharded variants (shardedPubSub)', () => {
    it('tell waiters by SPUBLISH: a shard subscriber hears the release and the forced release, a classic one nothing', async () => {
      const shard = new Redis(server.url);
      const heard: string[] = [];
      try {
        await shard.ssubscribe(keys.channel);
        shard.on('smessage', (_channel: string, message: string) => heard.push(`s:${message}`));
        await subscriber.subscribe(keys.channel);
        const onClassic = (_channel: string, message: string) => heard.push(`c:${message}`);
        subscriber.on('message', onClassic);
        await acquire('a:1');
        expect(
          await calls.release(redis, { keys, owner: 'a:1', sharded: true, mode: 'final' }, (result) => result, fail),
        ).toEqual({ kind: 'released' });
        await acquire('a:1');
        expect(await calls.forceRelease(redis, { keys, sharded: true })).toBe(true);
        await redis.ping();
        await shard.ping().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
        subscriber.off('message', onClassic);
        await subscriber.unsubscribe(keys.channel);
        expect(heard).toEqual(['s:released', 's:released']);
      } finally {
        shard.disconnect();
      }
    });
  });

  describe('simple-release.lua', () => {
    it('deletes only when the value is the caller’s', async () => {
      await redis.set('simple', 'owner-a');
      expect(await simpleReleaseScript.run(redis, ['simple'], ['owner-b'])).toBe(0);
      expect(await redis.get('simple')).toBe('owner-a');
      expect(await simpleReleaseScript.run(redis, ['simple'], ['owner-a'])).toBe(1);
    });
  });
});
