import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderAdmissionStore } from '../../src/order/async/order-admission.store';
import { OrderDeliveryStore } from '../../src/order/async/order-delivery.store';
import type { StreamOrder } from '../../src/order/async/order-stream.entries';
import { ReplicaConfirmationStore } from '../../src/order/async/replica-confirmation.store';
import { redisNowMs } from '../../src/redis/redis-clock';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import { ordersStreamPublishHook } from '../../src/order/async/orders-stream.publish-hook';
import type { RedisServer } from '../../scripts/stack/redis';
import { ReplicationLinkProxy } from '../support/replication-link-proxy';
import { startTestRedis } from '../support/shared-stack';

/**
 * ORDER_DURABILITY=replicas on the consumer side (issue 21, defect 3): WAIT counts only the writes
 * of the connection it runs on, so after a reconnect it proved nothing. A master, its replica
 * behind a proxy that holds the replication link back, and consumers that read on one connection
 * and confirm on another (a reconnect).
 */
describe('ReplicaConfirmationStore.confirmReplicated (a master and a replica whose link is held back)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let proxy: ReplicationLinkProxy;
  const clients: Redis[] = [];
  const client = (server: RedisServer) => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => {
    master = await startTestRedis('redis-confirm-master');
    proxy = await ReplicationLinkProxy.start(master.port);
    replica = await startTestRedis('redis-confirm-replica', { replicaOf: proxy.port });
    const deadline = Date.now() + 10_000;
    while (!/master_link_status:up/.test(await client(replica).info('replication'))) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
  });
  afterAll(async () => {
    clients.forEach((redis) => redis.disconnect());
    await replica?.stop();
    await proxy?.stop();
    await master?.stop();
  });

  it('waits for the replica on the confirming connection (not a fresh one’s no writes), and persists only what the current master still holds', async () => {
    const redis = client(master);
    const admission = new OrderAdmissionStore(redis);
    const delivery = new OrderDeliveryStore(redis);
    const confirmation = new ReplicaConfirmationStore(redis);
    const now = await redisNowMs(redis);
    await new SeckillStateStore(redis, ordersStreamPublishHook(delivery)).publish('1', {
      stock: 10,
      beginTime: new Date(now - 60_000),
      endTime: new Date(now + 600_000),
    });
    const read = async () =>
      (await delivery.read(client(master), { consumer: 'c1', voucherIds: ['1'], count: 10, blockMs: 100 })).orders;
    const confirm = (orders: StreamOrder[], on: Redis, replicas = 1) =>
      confirmation.confirmReplicated(orders, { consumer: 'c1', replicas, timeoutMs: 300, connection: on });

    // The replica lags; the consumer read the entry, then its connection was replaced.
    proxy.pause();
    expect((await admission.admit({ voucherId: '1', userId: '7', orderId: '701', maxBacklog: 100 })).admission).toBe(
      'accepted',
    );
    const [lagging] = await read();
    expect(lagging.orderId).toBe('701');
    expect(await confirm([lagging], client(master))).toEqual({ claimed: [lagging], replicated: false });
    proxy.resume();
    expect(await confirm([lagging], client(master))).toEqual({ claimed: [lagging], replicated: true });

    // An entry the promoted replica never got: the new master does not hold it, so it is not persisted.
    proxy.pause();
    expect((await admission.admit({ voucherId: '1', userId: '8', orderId: '801', maxBacklog: 100 })).admission).toBe(
      'accepted',
    );
    const [lost] = await read();
    await master.process.kill();
    const promoted = client(replica);
    await promoted.replicaof('NO', 'ONE');
    expect(await confirm([lost], promoted, 0)).toEqual({ claimed: [], replicated: true });
  });
});
