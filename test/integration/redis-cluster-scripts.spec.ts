import { Cluster } from 'ioredis';
import { SegmentIdWorker } from '../../src/id-worker/id-segment.service';
import { IdWorker } from '../../src/id-worker/id-worker.service';
import { OrderStreamQueries } from '../../src/order/async/order-stream.queries';
import { OrderStreamSnapshotStore } from '../../src/order/async/order-stream-snapshot.store';
import { OrderAdmissionStore } from '../../src/order/async/order-admission.store';
import { OrderDeliveryStore } from '../../src/order/async/order-delivery.store';
import { OrderSettlementStore } from '../../src/order/async/order-settlement.store';
import { ReplicaConfirmationStore } from '../../src/order/async/replica-confirmation.store';
import { SoldOutMemory } from '../../src/order/async/sold-out-memory';
import { durabilityProblems } from '../../src/order/async/redis-durability.check';
import { createRedisCluster, masterOf as slotMapMasterOf } from '../../src/redis/redis-connections';
import { redisNowMs } from '../../src/redis/redis-clock';
import { rateBucketKeys, seckillKeys } from '../../src/voucher/seckill-keys';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import { ordersStreamPublishHook } from '../../src/order/async/orders-stream.publish-hook';
import { SaleRestoreStore } from '../../src/order/async/sale-restore.store';
import { RedisCluster } from '../../scripts/stack/redis-cluster';
import { testDir } from '../support/shared-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every Lua script of the app, through the typed wrapper the app calls it with, on a real Redis
 * Cluster (3 masters) with the app's own Cluster client: a key outside the script's slot would be
 * refused (CROSSSLOT / "non local key"), and the sales used here live on every master.
 */
describe('The app’s Redis scripts and stores on a Redis Cluster (3 masters, real servers)', () => {
  let servers: RedisCluster;
  let redis: Cluster;
  let reader: Cluster;
  let subscriber: Cluster;
  let state: SeckillStateStore;
  let restorer: SaleRestoreStore;
  let admission: OrderAdmissionStore;
  let delivery: OrderDeliveryStore;
  let settlement: OrderSettlementStore;
  let replicas: ReplicaConfirmationStore;
  let queries: OrderStreamQueries;
  let snapshot: OrderStreamSnapshotStore;
  let nowMs: number;
  /** Vouchers whose slots cover all three masters. */
  let vouchers: string[];

  const masterOf = async (key: string) => {
    const slot = Number(await redis.cluster('KEYSLOT', key));
    const [, , master] = (await redis.cluster('SLOTS')).find(([start, end]) => slot >= start && slot <= end)!;
    return `${master[0]}:${master[1]}`;
  };
  const publish = (voucherId: string, stock: number) =>
    state.publish(voucherId, { stock, beginTime: new Date(nowMs - 60_000), endTime: new Date(nowMs + 600_000) });

  beforeAll(async () => {
    servers = await RedisCluster.start(testDir('redis-cluster-scripts'), 'scripts-cluster');
    const urls = servers.urls;
    redis = createRedisCluster(urls, 'scripts:cmd', { autoPipelining: true, commandTimeoutMs: 2000 });
    reader = createRedisCluster(urls, 'scripts:orders', { commandTimeoutMs: 4000 });
    subscriber = createRedisCluster(urls, 'scripts:sub', { shardedSubscribers: true });
    await Promise.all(
      [redis, reader, subscriber].map((client) => new Promise((resolve) => client.once('ready', resolve))),
    );
    admission = new OrderAdmissionStore(redis);
    delivery = new OrderDeliveryStore(redis);
    settlement = new OrderSettlementStore(redis);
    replicas = new ReplicaConfirmationStore(redis);
    state = new SeckillStateStore(redis, ordersStreamPublishHook(delivery));
    restorer = new SaleRestoreStore(redis, delivery);
    queries = new OrderStreamQueries(redis);
    snapshot = new OrderStreamSnapshotStore(redis);
    nowMs = await redisNowMs(redis);
    vouchers = [];
    const masters = new Set<string>();
    for (let id = 1; masters.size < 3 || vouchers.length < 3; id++) {
      const master = await masterOf(seckillKeys(String(id)).state);
      if (!masters.has(master)) {
        masters.add(master);
        vouchers.push(String(id));
      }
    }
  }, 60_000);
  afterAll(async () => {
    [redis, reader, subscriber].forEach((client) => client?.disconnect());
    await servers?.stop();
  });

  it('sync path: publish, reserve (with rate limits), confirm, release, sold-out and the deciding clock', async () => {
    for (const voucherId of vouchers) {
      expect(await publish(voucherId, 2)).toBe(true);
      expect(await state.isPublished(voucherId)).toBe(true);
      expect(Math.abs((await state.now(voucherId)) - nowMs)).toBeLessThan(60_000);
      const limits = {
        keys: rateBucketKeys(voucherId, '7', '10.0.0.1'),
        args: [0, 1, 0, 1] as [number, number, number, number],
      };
      const first = await state.reserve(voucherId, '7', limits);
      expect(first.admission).toBe('reserved');
      await state.confirm(voucherId, ['7'], first.endMs);
      expect((await state.reserve(voucherId, '7')).admission).toBe('already-bought');
      expect((await state.reserve(voucherId, '8')).admission).toBe('reserved');
      expect((await state.reserve(voucherId, '9')).admission).toBe('sold-out');
      await state.release(voucherId);
      expect(await state.stock(voucherId)).toBe(1);
      expect(await state.markSoldOut(voucherId, await state.returnedCount(voucherId))).toBe(true);
      expect((await state.reserve(voucherId, '10')).admission).toBe('sold-out');
    }
  });

  it('async path: admission (batched, rate-limited), reads across masters, settle, claim, compensate, lookups', async () => {
    const async = vouchers.map((id) => String(Number(id) + 1000));
    for (const voucherId of async) {
      await publish(voucherId, 3);
      const { admissions } = await admission.admitBatch({
        voucherId,
        maxBacklog: 100,
        rates: [0, 1, 0, 1],
        requests: ['1', '2', '2', '3'].map((userId, i) => ({
          userId,
          orderId: `${voucherId}00${i}`,
          buckets: rateBucketKeys(voucherId, userId, '10.0.0.1'),
        })),
      });
      expect(admissions.map((admission) => admission.admission)).toEqual([
        'accepted',
        'accepted',
        'already-bought',
        'accepted',
      ]);
      expect(
        (await admission.admit({ voucherId, userId: '4', orderId: `${voucherId}009`, maxBacklog: 100 })).admission,
      ).toBe('sold-out');
      expect(await replicas.waitForReplicas(voucherId, { replicas: 0, timeoutMs: 10 })).toBe(0);
    }
    // One read returns the new entries of every sale, wherever its slot lives.
    const { orders } = await delivery.read(reader, { consumer: 'c1', voucherIds: async, count: 100, blockMs: 200 });
    expect(orders).toHaveLength(9);
    const [settled, ...rest] = async;
    const mine = (voucherId: string) => orders.filter((order) => order.voucherId === voucherId);
    expect(await settlement.settle(settled, mine(settled))).toBe(3);
    expect(await queries.backlog(settled)).toMatchObject({ pending: 0, lag: 0, length: 3 });
    // The others' entries stay pending; another consumer claims them once idle.
    await sleep(60);
    for (const voucherId of rest) {
      const claimed = await delivery.claimIdle({ voucherId, consumer: 'c2', minIdleMs: 50, count: 10 });
      expect(claimed.orders).toHaveLength(3);
      expect((await snapshot.unackedStreamIds(voucherId)).ids.size).toBe(3);
      expect(await settlement.recordAttempt(voucherId, claimed.orders[0].orderId)).toBe(1);
      expect(await queries.lookup(claimed.orders[1].orderId, async)).toMatchObject({ state: 'PENDING' });
      expect(await settlement.compensate(claimed.orders[0], { reason: 'DATA_ERROR', keepBuyer: false })).toBe(true);
      expect(await settlement.compensate(claimed.orders[0], { reason: 'DATA_ERROR', keepBuyer: false })).toBe(false);
      expect(await queries.lookup(claimed.orders[0].orderId, async)).toMatchObject({ state: 'FAILED' });
      expect(await snapshot.deadOrderIds(voucherId)).toEqual(new Set([claimed.orders[0].orderId]));
      expect(await queries.orderCounts(voucherId)).toEqual({ pending: 2, failed: 1 });
      expect(await snapshot.allEntries(voucherId)).toHaveLength(3);
    }
  });

  it('restores a lost sale from staged keys in its own slot', async () => {
    for (const voucherId of vouchers.map((id) => String(Number(id) + 2000))) {
      const restored = await restorer.restore(voucherId, {
        stock: 5,
        beginTime: new Date(nowMs - 60_000),
        endTime: new Date(nowMs + 600_000),
        buyers: ['1', '2'],
        pending: [{ orderId: '77', userId: '2' }],
      });
      expect(restored).toBe(true);
      expect(await state.snapshot(voucherId)).toMatchObject({ buyers: 2 });
    }
  });

  it('hands out unique ids from both IdWorker modes; a compensation reaches the sold-out memory by pub/sub', async () => {
    const clock = () => Date.now();
    const single = new IdWorker(redis, clock);
    const segments = new SegmentIdWorker(redis, clock, 1000);
    const ids = await Promise.all([
      ...Array.from({ length: 50 }, () => single.nextId('order')),
      ...Array.from({ length: 250 }, () => segments.nextId('order')),
    ]);
    expect(new Set(ids).size).toBe(300);

    const memory = new SoldOutMemory(subscriber);
    memory.onModuleInit();
    try {
      const voucherId = vouchers[0] + '3000';
      await publish(voucherId, 1);
      expect((await admission.admit({ voucherId, userId: '5', orderId: '5001', maxBacklog: 10 })).admission).toBe(
        'accepted',
      );
      memory.remember(voucherId, memory.mark());
      const [order] = (
        await delivery.read(reader, { consumer: 'c1', voucherIds: [voucherId], count: 10, blockMs: 100 })
      ).orders;
      await sleep(200); // the restock subscription is confirmed
      expect(await settlement.compensate(order, { reason: 'DATA_ERROR', keepBuyer: false })).toBe(true);
      const deadline = Date.now() + 3000;
      while (memory.isSoldOut(voucherId) && Date.now() < deadline) {
        await sleep(20);
      }
      expect(memory.isSoldOut(voucherId)).toBe(false);
    } finally {
      memory.onModuleDestroy();
    }
  });

  it('checks durability on every master and names the one that fails', async () => {
    expect(await durabilityProblems(redis, { ORDER_DURABILITY: 'aof', ORDER_DURABILITY_REPLICAS: 1 })).toHaveLength(6);
    const [first] = servers.servers;
    const node = redis.nodes('master').find((master) => master.options.port === first.port)!;
    await node.config('SET', 'appendonly', 'yes');
    await node.config('SET', 'appendfsync', 'always');
    try {
      const problems = await durabilityProblems(redis, { ORDER_DURABILITY: 'aof', ORDER_DURABILITY_REPLICAS: 1 });
      expect(problems).toHaveLength(4);
      expect(problems.some((problem) => problem.includes(`:${first.port}:`))).toBe(false);
      expect(await durabilityProblems(redis, { ORDER_DURABILITY: 'replicas', ORDER_DURABILITY_REPLICAS: 1 })).toEqual(
        expect.arrayContaining([expect.stringMatching(/0 replicas are connected/)]),
      );
    } finally {
      await node.config('SET', 'appendonly', 'no');
    }
  });
  it('waits for replicas once per master, not once per sale (ORDER_DURABILITY=replicas)', async () => {
    const many = Array.from({ length: 12 }, (_, i) => String(100 + i));
    // The client's slot map agrees with the cluster about every sale's master.
    for (const voucherId of many) {
      const key = seckillKeys(voucherId).state;
      expect(slotMapMasterOf(redis, key)).toBe(await masterOf(key));
    }
    const waits = async () => {
      let calls = 0;
      for (const node of redis.nodes('master')) {
        calls += Number(/cmdstat_wait:calls=(\d+)/.exec(await node.info('commandstats'))?.[1] ?? 0);
      }
      return calls;
    };
    const before = await waits();
    const read = many.map((voucherId) => ({ streamId: '1-0', orderId: '1', userId: '1', voucherId }));
    expect(await replicas.confirmReplicated(read, { consumer: 'c1', replicas: 0, timeoutMs: 10 })).toEqual({
      claimed: [],
      replicated: true,
    });
    const masters = new Set(await Promise.all(many.map((voucherId) => masterOf(seckillKeys(voucherId).state))));
    expect((await waits()) - before).toBe(masters.size);
    expect(masters.size).toBeGreaterThan(1);
  });
});
