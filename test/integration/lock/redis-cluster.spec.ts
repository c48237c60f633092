import { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockService } from '../../../src/lock';
import { RedisCluster } from '../../../scripts/stack/redis-cluster';
import { testDir } from '../../support/shared-stack';

/**
 * The lock library unchanged on a real Redis Cluster (3 masters): every script keeps its keys in one
 * hash slot (`{name}`), or the cluster would refuse it (CROSSSLOT); release messages are classic
 * pub/sub, which a cluster delivers from any node to subscribers on any node.
 */
describe('Locks on a Redis Cluster (3 masters, real servers)', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const services: LockService[] = [];
  const service = (name: string) => {
    const nodes = cluster.nodes;
    const commands = new Cluster(nodes);
    const subscriber = new Cluster(nodes);
    clients.push(commands, subscriber);
    const locks = new LockService({ instanceId: name, nodes: [commands], subscriber, watchdogTimeoutMs: 2000 });
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

  it('excludes across services (processes) on one key, with direct grants, fair lock included', async () => {
    const counter = new Cluster(cluster.nodes);
    clients.push(counter);
    const contenders = [service('a'), service('b'), service('c')];
    for (const [kind, name] of [
      ['default', 'cluster:hot'],
      ['fair', 'cluster:hot-fair'],
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
  });
});
