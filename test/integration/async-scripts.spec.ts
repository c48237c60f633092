import { Redis } from 'ioredis';
import { OrderStreamQueries } from '../../src/order/async/order-stream.queries';
import { OrderAdmissionStore } from '../../src/order/async/order-admission.store';
import { OrderDeliveryStore } from '../../src/order/async/order-delivery.store';
import { OrderSettlementStore } from '../../src/order/async/order-settlement.store';
import type { StreamOrder } from '../../src/order/async/order-stream.entries';
import { SoldOutMemory } from '../../src/order/async/sold-out-memory';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from '../../src/order/async/order-stream.keys';
import { SeckillStateStore } from '../../src/voucher/seckill-state.store';
import { ordersStreamPublishHook } from '../../src/order/async/orders-stream.publish-hook';
import { SaleRestoreStore } from '../../src/order/async/sale-restore.store';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Async order scripts (seckill-admit/settle/compensate.lua) on real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let reader: Redis;
  let admission: OrderAdmissionStore;
  let delivery: OrderDeliveryStore;
  let settlement: OrderSettlementStore;
  let queries: OrderStreamQueries;
  let state: SeckillStateStore;
  let restorer: SaleRestoreStore;
  let serverNowMs: number;

  const publish = (voucherId: string, stock: number, window = { fromMs: -60_000, toMs: 60_000 }) =>
    state.publish(voucherId, {
      stock,
      beginTime: new Date(serverNowMs + window.fromMs),
      endTime: new Date(serverNowMs + window.toMs),
    });
  const admit = (voucherId: string, userId: string, orderId: string, maxBacklog = 1000) =>
    admission.admit({ voucherId, userId, orderId, maxBacklog });
  const readAll = async (voucherId: string) =>
    (await delivery.read(reader, { consumer: 'c1', voucherIds: [voucherId], count: 100, blockMs: 10 })).orders;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    reader = new Redis(server.url);
    admission = new OrderAdmissionStore(redis);
    delivery = new OrderDeliveryStore(redis);
    settlement = new OrderSettlementStore(redis);
    queries = new OrderStreamQueries(redis);
    state = new SeckillStateStore(redis, ordersStreamPublishHook(delivery));
    restorer = new SaleRestoreStore(redis, delivery);
  });
  beforeEach(async () => {
    await redis.flushall();
    const [seconds, micros] = await redis.time();
    serverNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  });
  afterAll(async () => {
    redis?.disconnect();
    reader?.disconnect();
    await server?.stop();
  });

  it('keeps every key of a sale under one hash tag (one cluster slot)', () => {
    const tags = Object.values(orderStreamKeys('42')).map((key) => /\{(.+?)\}/.exec(key)?.[1]);
    expect(tags).toEqual(Array(8).fill('42'));
  });

  it('answers each case with its own code, checking the window by Redis TIME', async () => {
    expect((await admit('1', '7', '100')).admission).toBe('unpublished');
    await publish('2', 5, { fromMs: 60_000, toMs: 120_000 });
    expect((await admit('2', '7', '101')).admission).toBe('not-started');
    await publish('3', 5, { fromMs: -120_000, toMs: -60_000 });
    expect((await admit('3', '7', '102')).admission).toBe('ended');
    await publish('4', 2);
    expect((await admit('4', '7', '103')).admission).toBe('accepted');
    expect((await admit('4', '7', '104')).admission).toBe('already-bought');
    expect((await admit('4', '9', '106')).admission).toBe('accepted');
    // Sold out is checked before the buyer, as on the synchronous path.
    expect((await admit('4', '7', '107')).admission).toBe('sold-out');
    expect((await admit('4', '8', '105')).admission).toBe('sold-out');
    // Nothing but the two acceptances was written.
    expect(await redis.xlen(orderStreamKeys('4').orders)).toBe(2);
    expect(await redis.hgetall(orderStreamKeys('4').pending)).toEqual({ '103': '7', '106': '9' });
    expect((await redis.smembers(orderStreamKeys('4').buyers)).sort()).toEqual(['7', '9']);
    expect(await redis.hget(orderStreamKeys('4').state, 'stock')).toBe('0');
    expect(await redis.pttl(orderStreamKeys('4').buyers)).toBeGreaterThan(0);
    for (const voucherId of ['2', '3']) {
      expect(await redis.xlen(orderStreamKeys(voucherId).orders)).toBe(0);
    }
  });

  it('appends the order to the stream for the consumer group, from the first entry', async () => {
    await publish('5', 10);
    await admit('5', '7', '200');
    await admit('5', '8', '201');
    const orders = await readAll('5');
    expect(orders.map(({ orderId, userId, voucherId }) => ({ orderId, userId, voucherId }))).toEqual([
      { orderId: '200', userId: '7', voucherId: '5' },
      { orderId: '201', userId: '8', voucherId: '5' },
    ]);
  });

  it('never overwrites the pending entry of another order with an order id handed out twice', async () => {
    await publish('30', 5);
    expect((await admit('30', '7', '300')).admission).toBe('accepted');
    // The id counter went back (a failover): a second buyer's order gets the same id.
    expect((await admit('30', '8', '300')).admission).toBe('accepted');
    expect(await redis.hget(orderStreamKeys('30').pending, '300')).toBe('7');
  });

  it('pauses admission once accepted − settled reaches the backlog bound', async () => {
    await publish('6', 10);
    expect((await admit('6', '1', '301', 2)).admission).toBe('accepted');
    expect((await admit('6', '2', '302', 2)).admission).toBe('accepted');
    expect((await admit('6', '3', '303', 2)).admission).toBe('backlog');
    const orders = await readAll('6');
    expect(await settlement.settle('6', orders.slice(0, 1))).toBe(1);
    expect((await admit('6', '3', '303', 2)).admission).toBe('accepted');
  });

  it('decides a batch in one call exactly as the same requests one after another', async () => {
    // Stock 3, backlog bound 3 after one earlier order settles nothing: the batch meets a repeated
    // buyer, the backlog bound and then the empty stock, in that order.
    const requests = [
      { userId: '1', orderId: '501' },
      { userId: '1', orderId: '502' },
      { userId: '2', orderId: '503' },
      { userId: '3', orderId: '504' },
      { userId: '4', orderId: '505' },
      { userId: '5', orderId: '506' },
    ];
    const outcomes = async (voucherId: string, maxBacklog: number, batched: boolean) => {
      await publish(voucherId, 4);
      expect((await admit(voucherId, '9', '500', maxBacklog)).admission).toBe('accepted');
      if (batched) {
        return (await admission.admitBatch({ voucherId, maxBacklog, requests })).admissions.map(
          (outcome) => outcome.admission,
        );
      }
      const one: string[] = [];
      for (const request of requests) {
        one.push((await admit(voucherId, request.userId, request.orderId, maxBacklog)).admission);
      }
      return one;
    };
    const snapshot = async (voucherId: string) => ({
      state: await redis.hmget(orderStreamKeys(voucherId).state, 'stock', 'accepted'),
      buyers: (await redis.smembers(orderStreamKeys(voucherId).buyers)).sort(),
      pending: await redis.hgetall(orderStreamKeys(voucherId).pending),
      orders: (await readAll(voucherId)).map(({ orderId, userId }) => ({ orderId, userId })),
    });
    for (const maxBacklog of [3, 1000]) {
      await redis.flushall();
      const batch = await outcomes('10', maxBacklog, true);
      const single = await outcomes('11', maxBacklog, false);
      expect(batch).toEqual(single);
      expect(await snapshot('10')).toEqual(await snapshot('11'));
    }
    expect(await outcomes('12', 3, true)).toEqual([
      'accepted',
      'already-bought',
      'accepted',
      'backlog',
      'backlog',
      'backlog',
    ]);
    await redis.flushall();
    expect(await outcomes('13', 1000, true)).toEqual([
      'accepted',
      'already-bought',
      'accepted',
      'accepted',
      'sold-out',
      'sold-out',
    ]);
  });

  it('settles an entry once: a second acknowledgement counts nothing', async () => {
    await publish('7', 10);
    await admit('7', '1', '401');
    const orders = await readAll('7');
    expect(await settlement.settle('7', orders)).toBe(1);
    expect(await settlement.settle('7', orders)).toBe(0);
    expect(await redis.hget(orderStreamKeys('7').state, 'settled')).toBe('1');
    expect(await redis.hlen(orderStreamKeys('7').pending)).toBe(0);
    expect(await redis.xpending(orderStreamKeys('7').orders, ORDER_CONSUMER_GROUP)).toEqual([0, null, null, null]);
  });

  it('never recreates a vanished state hash when settling', async () => {
    await publish('8', 10);
    await admit('8', '1', '501');
    const orders = await readAll('8');
    await redis.del(orderStreamKeys('8').state);
    expect(await settlement.settle('8', orders)).toBe(1);
    expect(await redis.exists(orderStreamKeys('8').state)).toBe(0);
  });

  it('compensates a dead-lettered order exactly once, even when two consumers race', async () => {
    await publish('9', 1);
    await admit('9', '7', '601');
    const [order] = await readAll('9');
    const subscriber = new Redis(server.url);
    const memory = new SoldOutMemory(subscriber);
    try {
      memory.onModuleInit();
      await sleep(100);
      memory.remember('9', memory.mark());
      expect(memory.isSoldOut('9')).toBe(true);
      const results = await Promise.all([
        settlement.compensate(order, { reason: 'DATA_ERROR', keepBuyer: false }),
        settlement.compensate(order, { reason: 'DATA_ERROR', keepBuyer: false }),
      ]);
      expect(results.sort()).toEqual([false, true]);
      expect(await redis.hget(orderStreamKeys('9').state, 'stock')).toBe('1');
      expect(await redis.sismember(orderStreamKeys('9').buyers, '7')).toBe(0);
      expect(await redis.hgetall(orderStreamKeys('9').failed)).toEqual({ '601': '7:DATA_ERROR' });
      expect(await redis.xlen(orderStreamKeys('9').dead)).toBe(1);
      expect(await queries.lookup('601', ['9'])).toMatchObject({ state: 'FAILED', userId: '7', reason: 'DATA_ERROR' });
      // The restock message reached this "replica": it sells again without waiting out its memory.
      await sleep(100);
      expect(memory.isSoldOut('9')).toBe(false);
      // The user may buy again.
      expect((await admit('9', '7', '602')).admission).toBe('accepted');
    } finally {
      memory.onModuleDestroy();
      subscriber.disconnect();
    }
  });

  it('keeps the buyer when the compensation is for a second order of a user who holds one', async () => {
    await publish('10', 5);
    await admit('10', '7', '701');
    const [order] = await readAll('10');
    expect(await settlement.compensate(order, { reason: 'ALREADY_ORDERED', keepBuyer: true })).toBe(true);
    expect(await redis.sismember(orderStreamKeys('10').buyers, '7')).toBe(1);
    expect(await redis.hget(orderStreamKeys('10').state, 'stock')).toBe('5');
  });

  it('claims entries idle past the threshold for another consumer', async () => {
    await publish('11', 5);
    await admit('11', '7', '801');
    await readAll('11'); // delivered to c1, never acknowledged (c1 "crashed")
    expect(
      (await delivery.claimIdle({ voucherId: '11', consumer: 'c2', minIdleMs: 60_000, count: 10 })).orders,
    ).toEqual([]);
    await sleep(60);
    const claimed = await delivery.claimIdle({ voucherId: '11', consumer: 'c2', minIdleMs: 50, count: 10 });
    expect(claimed.orders.map((entry: StreamOrder) => entry.orderId)).toEqual(['801']);
    const [, , , consumers] = (await redis.xpending(orderStreamKeys('11').orders, ORDER_CONSUMER_GROUP)) as [
      number,
      string,
      string,
      [string, string][],
    ];
    expect(consumers).toEqual([['c2', '1']]);
  });

  it('never lets a publish retry or a second rebuild overwrite a sale that is selling', async () => {
    await publish('13', 5);
    await admit('13', '7', '1001');
    expect(await redis.hget(orderStreamKeys('13').state, 'stock')).toBe('4');
    // The creation's publish retried (its first reply lost): left alone.
    await publish('13', 5);
    expect(await redis.hget(orderStreamKeys('13').state, 'stock')).toBe('4');
    // A rebuild that lost the race to another one: dropped, staging keys included.
    const restored = await restorer.restore('13', {
      stock: 5,
      beginTime: new Date(serverNowMs - 1000),
      endTime: new Date(serverNowMs + 60_000),
      buyers: ['1'],
      pending: [{ orderId: '1', userId: '1' }],
    });
    expect(restored).toBe(false);
    expect(await redis.hget(orderStreamKeys('13').state, 'stock')).toBe('4');
    expect(await redis.smembers(orderStreamKeys('13').buyers)).toEqual(['7']);
    expect(await redis.keys(`${orderStreamKeys('13').state}:*:staged*`)).toEqual([]);
  });

  it('rebuilds a lost state with the buyers and pending orders given, the state hash last', async () => {
    await redis.sadd(orderStreamKeys('12').buyers, 'stale');
    await restorer.restore('12', {
      stock: 3,
      beginTime: new Date(serverNowMs - 1000),
      endTime: new Date(serverNowMs + 60_000),
      buyers: ['1', '2'],
      pending: [{ orderId: '901', userId: '2' }],
    });
    expect(await state.isPublished('12')).toBe(true);
    expect((await admit('12', '2', '902')).admission).toBe('already-bought');
    expect((await admit('12', '3', '903')).admission).toBe('accepted');
    expect(await queries.lookup('901', ['12'])).toMatchObject({ state: 'PENDING', userId: '2' });
    expect(await redis.hget(orderStreamKeys('12').state, 'stock')).toBe('2');
    expect((await redis.smembers(orderStreamKeys('12').buyers)).sort()).toEqual(['1', '2', '3']);
    expect(await redis.pttl(orderStreamKeys('12').buyers)).toBeGreaterThan(0);
  });

  it('keeps two overlapping rebuilds apart: the state swapped in is one of them, never a mix', async () => {
    const rebuild = (buyers: string[], orderId: string) =>
      restorer.restore('14', {
        stock: 3,
        beginTime: new Date(serverNowMs - 1000),
        endTime: new Date(serverNowMs + 60_000),
        buyers,
        pending: [{ orderId, userId: buyers[0] }],
      });
    const outcomes = await Promise.all([rebuild(['1', '2'], '1401'), rebuild(['3'], '1402')]);
    expect(outcomes.sort()).toEqual([false, true]);
    const buyers = (await redis.smembers(orderStreamKeys('14').buyers)).sort();
    const pending = Object.keys(await redis.hgetall(orderStreamKeys('14').pending));
    expect([
      { buyers: ['1', '2'], pending: ['1401'] },
      { buyers: ['3'], pending: ['1402'] },
    ]).toContainEqual({
      buyers,
      pending,
    });
    expect(await redis.keys(`${orderStreamKeys('14').state}:*:staged*`)).toEqual([]);
  });
});
