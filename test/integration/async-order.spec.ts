import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import { ASYNC_ORDERS } from '../../src/order/async-orders';
import { AsyncOrderService } from '../../src/order/async/async-order.service';
import { OrderRecovery } from '../../src/order/async/order-recovery';
import { sampleOf } from '../support/metrics-text';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hour = 3600 * 1000;

describe('ORDER_MODE=async in-process (real MariaDB + Redis)', () => {
  let t: TestApp;
  let db: Connection;
  let admin: Record<string, string>;

  const createSeckill = (stock: number, window?: { fromMs: number; toMs: number }) => t.createSeckill(stock, window);
  const order = (voucherId: string, userId: string) => t.order(voucherId, userId);
  const state = async (orderId: string, userId: string) =>
    t.app.inject({
      method: 'GET',
      url: `/voucher-order/${orderId}`,
      headers: { authorization: `Bearer ${await t.token(userId)}` },
    });
  const waitForState = async (orderId: string, userId: string, expected: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await state(orderId, userId);
      if (response.statusCode === 200 && response.json<{ state: string }>().state === expected) {
        return response.json<Record<string, unknown>>();
      }
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    t = await startTestApp({ ORDER_MODE: 'async', ORDER_DURABILITY: 'none', ORDER_MAX_BACKLOG: '1' });
    db = await createConnection(t.mysqlUrl);
    admin = { authorization: `Bearer ${await t.token('1', 'admin')}` };
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('registers the asynchronous path, reached by the shared order code through ASYNC_ORDERS', () => {
    expect(t.app.get(ASYNC_ORDERS, { strict: false })).toBe(t.app.get(AsyncOrderService, { strict: false }));
  });

  it('answers 202 {orderId, status: PENDING} and the order becomes CREATED with the seed status', async () => {
    const voucherId = await createSeckill(5);
    const response = await order(voucherId, '11');
    expect(response.statusCode).toBe(202);
    const body = response.json<{ orderId: string; status: string }>();
    expect(body).toEqual({ orderId: expect.stringMatching(/^\d+$/), status: 'PENDING' });
    const created = await waitForState(body.orderId, '11', 'CREATED');
    expect(created).toMatchObject({ id: body.orderId, userId: '11', voucherId, status: 1, payType: 1 });
    // An admin sees it too; another user does not.
    expect((await state(body.orderId, '1')).statusCode).toBe(404);
    const asAdmin = await t.app.inject({ method: 'GET', url: `/voucher-order/${body.orderId}`, headers: admin });
    expect(asAdmin.json()).toMatchObject({ state: 'CREATED' });
  });

  it('moves the async series on /metrics: admissions, persisted orders, batches, persist latency, stream length', async () => {
    const scrape = async () => (await t.internal('/metrics')).body;
    const sample = sampleOf;
    const series = [
      'seckill_async_orders_persisted_total',
      'seckill_async_batch_size_count',
      'seckill_async_persist_seconds_count',
      'seckill_async_admission_batch_size_count',
    ];
    const before = await scrape();
    const voucherId = await createSeckill(5);
    const response = await order(voucherId, '13');
    await waitForState(response.json<{ orderId: string }>().orderId, '13', 'CREATED');
    await t.app.get(OrderRecovery).recover();
    const after = await scrape();
    for (const name of series) {
      expect({ name, moved: sample(after, name) > sample(before, name) }).toEqual({ name, moved: true });
    }
    expect(sample(after, 'seckill_async_stream_length')).toBeGreaterThanOrEqual(1);
    // The admin view of the same sale: persisted, nothing on its way, nothing dead-lettered.
    const view = await t.app.inject({ method: 'GET', url: `/admin/sales/${voucherId}`, headers: admin });
    expect(view.json()).toMatchObject({
      mysqlStock: 4,
      redis: { published: true, stock: 4, buyers: 1, accepted: 1, settled: 1 },
      orderMode: 'async',
      orders: {
        mysqlOrders: 1,
        async: { streamLength: 1, pendingOrders: 0, delivered: 0, undelivered: 0, deadLettered: 0 },
      },
    });
    expect(after).toContain('# TYPE seckill_async_stream_lag gauge');
    expect(after).toContain('# TYPE seckill_async_stream_pending_entries gauge');
    expect(after).toContain('# TYPE seckill_async_orders_dead_lettered_total counter');
  });

  it('answers the documented 4xx without writing anything', async () => {
    const notStarted = await createSeckill(5, { fromMs: hour, toMs: 2 * hour });
    const ended = await createSeckill(5, { fromMs: -2 * hour, toMs: -hour });
    const checks: [string, number, string][] = [
      [notStarted, 409, 'NOT_STARTED'],
      [ended, 409, 'ENDED'],
      ['987654321', 404, 'VOUCHER_NOT_FOUND'],
      ['abc', 400, 'INVALID_ID'],
    ];
    for (const [voucherId, status, code] of checks) {
      const response = await order(voucherId, '12');
      expect({ voucherId, status: response.statusCode, code: response.json<{ code: string }>().code }).toEqual({
        voucherId,
        status,
        code,
      });
    }
    const [rows] = await db.query('SELECT COUNT(*) AS n FROM tb_voucher_order WHERE user_id = 12');
    expect(Number((rows as { n: number }[])[0].n)).toBe(0);
  });

  it('answers 503 ORDER_BACKLOG with Retry-After while the consumers are behind, and sells again after', async () => {
    const voucherId = await createSeckill(5);
    const lock = await createConnection(t.mysqlUrl);
    try {
      // The consumer's batch waits on the stock row: one accepted order stays unpersisted (ORDER_MAX_BACKLOG=1).
      await lock.beginTransaction();
      await lock.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
      expect((await order(voucherId, '21')).statusCode).toBe(202);
      const refused = await order(voucherId, '22');
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'ORDER_BACKLOG' });
      expect(refused.headers['retry-after']).toBe('1');
      await lock.rollback();
    } finally {
      await lock.end();
    }
    const deadline = Date.now() + 20_000;
    let retried = await order(voucherId, '22');
    while (retried.statusCode === 503) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
      retried = await order(voucherId, '22');
    }
    expect(retried.statusCode).toBe(202);
  });
});

describe('ORDER_MODE=async on a Redis whose durability changes while it runs', () => {
  it('pauses admission (503 REDIS_NOT_DURABLE) once a re-check finds fsync-per-write gone, and resumes after', async () => {
    const t = await startTestApp(
      { ORDER_MODE: 'async', ORDER_DURABILITY: 'aof', ORDER_MAX_BACKLOG: '200000' },
      { durableRedis: true },
    );
    const redis = new Redis(t.redis.url);
    try {
      const voucherId = await t.createSeckill(1000);
      const order = (userId: string) => t.order(voucherId, userId);
      expect((await order('31')).statusCode).toBe(202);
      await redis.config('SET', 'appendfsync', 'everysec');
      const deadline = Date.now() + 15_000;
      let refused = await order('32');
      while (refused.statusCode === 202) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(500);
        refused = await order(String(40 + Math.floor(Math.random() * 1e6)));
      }
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'REDIS_NOT_DURABLE' });
      await redis.config('SET', 'appendfsync', 'always');
      let resumed = await order('33');
      while (resumed.statusCode === 503) {
        expect(Date.now()).toBeLessThan(deadline + 15_000);
        await sleep(500);
        resumed = await order('33');
      }
      expect(resumed.statusCode).toBe(202);
    } finally {
      redis.disconnect();
      await t.close();
    }
  }, 60_000);
});

describe('ORDER_MODE=async refuses to start on a Redis that would lose accepted orders', () => {
  it('names the settings to fix (ORDER_DURABILITY=aof on a Redis without AOF)', async () => {
    await expect(startTestApp({ ORDER_MODE: 'async', ORDER_DURABILITY: 'aof' })).rejects.toThrow(
      /refuses to start[\s\S]*appendonly is no, must be yes[\s\S]*appendfsync is \w+, must be always[\s\S]*ORDER_DURABILITY=none/,
    );
  });

  it('names the replica count (ORDER_DURABILITY=replicas on a Redis without replicas)', async () => {
    await expect(
      startTestApp({ ORDER_MODE: 'async', ORDER_DURABILITY: 'replicas', ORDER_DURABILITY_REPLICAS: '1' }),
    ).rejects.toThrow(/0 replicas are connected, ORDER_DURABILITY_REPLICAS=1 required/);
  });
});
