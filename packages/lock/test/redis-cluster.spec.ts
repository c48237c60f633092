import { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockService } from '../src';
import { RedisCluster, testDir } from './support/repo';

/**
 * The lock library unchanged on a real Redis Cluster (3 masters): every script keeps its keys in one
 * hash slot (`{name}`), or the cluster would refuse it (CROSSSLOT). Release messages go by classic
 * pub/sub (the cluster bus carries them to every node) or, with `shardedPubSub`, by sharded pub/sub
 * (SPUBLISH stays on the lock's shard; the subscriber listens on every master).
 */
describe('Locks on a Redis Cluster (3 masters, real servers)', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const services: LockService[] = [];
  const service = (name: string, options: { sharded?: boolean; watchdogTimeoutMs?: number } = {}) => {
    const nodes = cluster.nodes;
    const commands = new Cluster(nodes, { enableAutoPipelining: true });
    const subscriber = new Cluster(nodes, { shardedSubscribers: options.sharded });
    clients.push(commands, subscriber);
    const locks = new LockService({
      instanceId: name,
      nodes: [commands],
      subscriber,
      watchdogTimeoutMs: options.watchdogTimeoutMs ?? 2000,
      shardedPubSub: options.sharded,
    });
    services.push(locks);
    return locks;
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(testDir('redis-cluster'), 'lock-cluster');
  }, 60_000);
  afterAll(async () => {
    services.forEach((locks) => locks.close());
    clients.forEach((client) => client.disconnect());
    await cluster?.stop();
  });

  it('takes, re-enters, checks, releases and force-releases locks whose keys live on every master', async () => {
    const locks = service('single');
    const probe = new Cluster(cluster.nodes);
    clients.push(probe);
    // Names spread over the slots of all three masters.
    const names = Array.from({ length: 12 }, (_, i) => `cluster:${i}`);
    const owners = new Set<string>();
    for (const name of names) {
      await locks.withLock(name, { waitTime: 1000 }, async (context) => {
        await context.assertHeld('redis');
        const inner = await locks.getLock(name).lock({ waitTime: 1000 });
        expect(inner.holdCount).toBe(2);
        await inner.unlock();
      });
      const held = await locks.getLock(name).lock({ leaseTime: 5000 });
      expect(await locks.getLock(name).forceUnlock()).toBe(true);
      await expect(held.unlock()).rejects.toThrow();
      const slot = Number(await probe.cluster('KEYSLOT', `lock:{${name}}`));
      const ranges = await probe.cluster('SLOTS');
      const range = ranges.find(([start, end]) => slot >= start && slot <= end);
      owners.add(String(range?.[2][1]));
    }
    // The names' locks lived on every master: each script ran on each node.
    expect(owners.size).toBe(3);
  });

  it('keeps locks on every master through several watchdog renewals (one call per slot, not one pipeline)', async () => {
    const locks = service('watchdog', { watchdogTimeoutMs: 600 });
    const names = Array.from({ length: 12 }, (_, i) => `cluster:renew:${i}`);
    const lost: string[] = [];
    locks.onLockLost((event) => lost.push(event.name));
    const handles = await Promise.all(names.map((name) => locks.getLock(name).lock({ waitTime: 1000 })));
    // Three leases long: without renewals on every node the keys would have expired.
    await sleep(1800);
    const ttls = await Promise.all(names.map((name) => locks.getLock(name).remainingTtl()));
    expect(ttls.every((ttl) => ttl > 0)).toBe(true);
    expect(lost).toEqual([]);
    await Promise.all(handles.map((handle) => handle.unlock()));
  });

  it.each([
    ['classic pub/sub', false],
    ['sharded pub/sub', true],
  ])('wakes a waiter by the release message, not by the 30 s lease (%s)', async (_, sharded) => {
    const holder = service(`holder-${String(sharded)}`, { sharded, watchdogTimeoutMs: 30_000 });
    const waiter = service(`waiter-${String(sharded)}`, { sharded, watchdogTimeoutMs: 30_000 });
    const name = `cluster:wake:${String(sharded)}`;
    const held = await holder.getLock(name).lock();
    const waiting = waiter.getLock(name).lock({ waitTime: 20_000 });
    await sleep(200);
    const releasedAt = performance.now();
    await held.unlock();
    const handle = await waiting;
    // Without a message the waiter would sleep until the lease's end, ~30 s away.
    expect(performance.now() - releasedAt).toBeLessThan(5000);
    await handle.unlock();
  });

  it.each([
    ['classic pub/sub', false],
    ['sharded pub/sub', true],
  ])(
    'excludes across services (processes) on one key, with direct grants, fair lock included (%s)',
    async (_, sharded) => {
      const counter = new Cluster(cluster.nodes);
      clients.push(counter);
      const contenders = ['a', 'b', 'c'].map((name) => service(`${name}-${String(sharded)}`, { sharded }));
      for (const [kind, name] of [
        ['default', `cluster:hot:${String(sharded)}`],
        ['fair', `cluster:hot-fair:${String(sharded)}`],
      ] as const) {
        let overlaps = 0;
        let sections = 0;
        await Promise.all(
          contenders.flatMap((locks) =>
            Array.from({ length: 4 }, async () => {
              for (let round = 0; round < 5; round++) {
                const lock = kind === 'fair' ? locks.getFairLock(name) : locks.getLock(name);
                const handle = await lock.lock({ waitTime: 20_000 });
                if ((await counter.incr(`inside:{${name}}`)) !== 1) {
                  overlaps++;
                }
                await sleep(1);
                await counter.decr(`inside:{${name}}`);
                sections++;
                await handle.unlock();
              }
            }),
          ),
        );
        expect({ kind, overlaps, sections }).toEqual({ kind, overlaps: 0, sections: 3 * 4 * 5 });
      }
    },
  );
});
