import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockNotReplicatedError, LockService, type LockHandle } from '@seckill/lock';
import { OrderStreamSnapshotStore } from '../../../src/order/async/order-stream-snapshot.store';
import { OrderAdmissionStore } from '../../../src/order/async/order-admission.store';
import { ReplicaConfirmationStore } from '../../../src/order/async/replica-confirmation.store';
import { redisNowMs } from '../../../src/redis/redis-clock';
import { seckillKeys } from '../../../src/voucher/seckill-keys';
import { SeckillStateStore } from '../../../src/voucher/seckill-state.store';
import { RedisSentinelGroup, SENTINEL_MASTER_NAME } from '../../../scripts/stack/redis-sentinel';
import { ReplicationLinkProxy } from '../../support/replication-link-proxy';
import { testDir } from '../../support/shared-stack';

const SYNC = { replicas: 1, timeoutMs: 300 };

/**
 * Replica-safe grants through a real Sentinel failover: a master (behind a proxy that can hold back
 * its replication link, to make the replica lag), one replica and three sentinels. The master is SIGKILLed right after
 * a grant; the sentinels promote the replica; clients follow through the sentinels.
 */
describe('Replica-safe grants (replicaSync / WAIT) through a Redis Sentinel failover', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve(cleanup()).catch(() => undefined);
    }
  });

  async function startGroup(name: string) {
    let proxy: ReplicationLinkProxy | undefined;
    const group = await RedisSentinelGroup.start(testDir(name), name, {
      frontMaster: async (masterPort) => {
        proxy = await ReplicationLinkProxy.start(masterPort);
        cleanups.push(() => proxy!.stop());
        return proxy.port;
      },
    });
    cleanups.push(() => group.stop());
    const client = () => {
      const redis = new Redis({
        sentinels: group.nodes,
        name: SENTINEL_MASTER_NAME,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        enableAutoPipelining: true,
      });
      redis.on('error', () => undefined);
      cleanups.push(() => redis.disconnect());
      return redis;
    };
    const service = (instanceId: string, replicaSync?: typeof SYNC) => {
      const locks = new LockService({
        instanceId,
        nodes: [client()],
        subscriber: client(),
        // Longer than a failover (~3 s here): a confirmed hold must not simply expire meanwhile.
        watchdogTimeoutMs: 9000,
        replicaSync,
      });
      cleanups.push(() => locks.close());
      return locks;
    };
    /** SIGKILLs the master and waits until the sentinels promoted the replica. */
    const failOver = async () => {
      const old = group.masterFrontPort;
      await group.master.process.kill();
      return group.untilFailedOver(old);
    };
    return { group, proxy: proxy!, client, service, failOver };
  }

  /** tryLock, retried while the clients are still finding the new master. */
  async function tryLockAfterFailover(locks: LockService, name: string): Promise<LockHandle | null> {
    const deadline = performance.now() + 15_000;
    for (;;) {
      try {
        return await locks.getLock(name).tryLock();
      } catch (error) {
        if (performance.now() > deadline) {
          throw error;
        }
        await sleep(100);
      }
    }
  }

  it('with replicaSync: a grant the replica cannot confirm is given back (LockNotReplicatedError, admission unconfirmed); a confirmed grant and confirmed orders survive the failover', async () => {
    const { proxy, client, service, failOver } = await startGroup('sentinel-sync');
    const a = service('a', SYNC);
    const b = service('b');
    const redis = client();
    const admission = new OrderAdmissionStore(redis);
    const replicas = new ReplicaConfirmationStore(redis);
    const state = new SeckillStateStore(redis);
    const now = await redisNowMs(redis);
    await state.publish('1', { stock: 100, beginTime: new Date(now - 60_000), endTime: new Date(now + 600_000) });

    // The replica lags: the grant is refused and given back, an admission is not confirmed.
    proxy.pause();
    await expect(a.getLock('sync:lagging').lock({ waitTime: 1000 })).rejects.toBeInstanceOf(LockNotReplicatedError);
    const free = await b.getLock('sync:lagging').tryLock();
    expect(free).not.toBeNull();
    await free!.unlock();
    expect((await admission.admit({ voucherId: '1', userId: '999', orderId: '999', maxBacklog: 1000 })).admission).toBe(
      'accepted',
    );
    expect(await replicas.waitForReplicas('1', SYNC)).toBe(0);
    // The same for a grant another process's release wrote straight to a queued waiter (renewed on
    // the waiter's connection before its WAIT, or the WAIT would not cover it).
    const lagging = await b.getLock('sync:direct-lagging').lock();
    const refused = a.getLock('sync:direct-lagging').lock({ waitTime: 5000 });
    await sleep(100);
    await lagging.unlock();
    await expect(refused).rejects.toBeInstanceOf(LockNotReplicatedError);
    proxy.resume();
    const holder = await b.getLock('sync:direct').lock();
    const waiting = a.getLock('sync:direct').lock({ waitTime: 5000 });
    await sleep(100);
    await holder.unlock();
    await (await waiting).unlock();

    // Confirmed: a lock and 20 orders, then the master dies at once.
    const confirmedOrders: string[] = [];
    for (let i = 0; i < 20; i++) {
      const orderId = String(1000 + i);
      expect((await admission.admit({ voucherId: '1', userId: orderId, orderId, maxBacklog: 1000 })).admission).toBe(
        'accepted',
      );
      expect(await replicas.waitForReplicas('1', SYNC)).toBe(1);
      confirmedOrders.push(orderId);
    }
    const held = await a.getLock('sync:held').lock({ waitTime: 1000 });
    await failOver();

    // No second owner after the failover, and every confirmed order is on the new master.
    expect(await tryLockAfterFailover(b, 'sync:held')).toBeNull();
    const entries = await new OrderStreamSnapshotStore(redis).allEntries('1');
    expect(entries.map((entry) => entry.orderId)).toEqual(expect.arrayContaining(confirmedOrders));
    expect(await redis.sismember(seckillKeys('1').buyers, '1019')).toBe(1);
    await held.unlock();
    const next = await tryLockAfterFailover(b, 'sync:held');
    expect(next).not.toBeNull();
    expect(next!.fencingToken).toBeGreaterThan(held.fencingToken);
    await next!.unlock();
  });

  it('without replicaSync (negative control): a grant the replica had not received is lost in the failover — a second owner gets in, and the first learns it lost the lock', async () => {
    const { proxy, service, failOver } = await startGroup('sentinel-async');
    const a = service('a');
    const b = service('b');
    proxy.pause();
    const held = await a.getLock('async:held').lock({ waitTime: 1000 });
    const lost = new Promise((resolve) => held.signal.addEventListener('abort', resolve, { once: true }));
    await failOver();
    const second = await tryLockAfterFailover(b, 'async:held');
    // Two owners: exactly what replicaSync prevents. Fencing still orders them.
    expect(second).not.toBeNull();
    expect(second!.fencingToken).toBeGreaterThan(held.fencingToken);
    // The first owner's watchdog finds the lock gone on the new master and fires its signal.
    await expect(Promise.race([lost, sleep(15_000).then(() => 'not lost')])).resolves.not.toBe('not lost');
    await second!.unlock();
  });
});
