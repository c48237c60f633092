import { createConnection, type Connection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { VoucherReconciler } from '../../src/voucher/voucher-reconciler';
import { VoucherRepository } from '../../src/voucher/voucher.repository';
import { composeId, counterKey } from '../../src/id-worker/id-worker.service';
import { startTestApp, TestApp } from '../support/test-app';

describe('Vouchers and seckill orders (in-process app, real MariaDB + Redis)', () => {
  let t: TestApp;
  let db: Connection;
  let redis: Redis;
  let admin: Record<string, string>;
  const hour = 3600 * 1000;

  const postSeckill = (overrides: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/voucher/seckill',
      headers: admin,
      payload: {
        shopId: 1,
        title: '100 off',
        subTitle: 'weekdays',
        rules: 'one per user',
        payValue: 8000,
        actualValue: 10000,
        stock: 3,
        beginTime: new Date(Date.now() - hour).toISOString(),
        endTime: new Date(Date.now() + hour).toISOString(),
        ...overrides,
      },
    });
  const createSeckill = async (overrides: Record<string, unknown> = {}) => {
    const response = await postSeckill(overrides);
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string }>().id;
  };
  const order = async (voucherId: string, userId: string) =>
    t.app.inject({
      method: 'POST',
      url: `/voucher-order/seckill/${voucherId}`,
      headers: { authorization: `Bearer ${await t.token(userId)}` },
    });
  const count = async (sql: string) => {
    const [rows] = await db.query(sql);
    return Number((rows as { n: number }[])[0].n);
  };

  beforeAll(async () => {
    t = await startTestApp();
    db = await createConnection(t.mysqlUrl);
    redis = new Redis(t.redis.url);
    admin = { authorization: `Bearer ${await t.token('1', 'admin')}` };
  });
  afterAll(async () => {
    await db?.end();
    redis?.disconnect();
    await t?.close();
  });

  describe('vouchers', () => {
    it('creates a normal voucher and lists it with the shop', async () => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/voucher',
        headers: admin,
        payload: { shopId: '2', title: 'Coffee', payValue: 0, actualValue: 500 },
      });
      expect(created.statusCode).toBe(201);
      const { id } = created.json<{ id: string }>();
      expect(id).toMatch(/^\d+$/);
      const list = await t.app.inject({ method: 'GET', url: '/voucher/list/2' });
      expect(list.json()).toEqual([expect.objectContaining({ id, shopId: '2', type: 0, actualValue: 500 })]);
    });

    it('creates a seckill voucher in both tables and publishes its stock to Redis', async () => {
      const id = await createSeckill({ stock: 42 });
      expect(await count(`SELECT stock AS n FROM tb_seckill_voucher WHERE voucher_id = ${id}`)).toBe(42);
      expect(await redis.hget(`seckill:{${id}}`, 'stock')).toBe('42');
      const one = await t.app.inject({ method: 'GET', url: `/voucher/${id}` });
      expect(one.json()).toMatchObject({ id, type: 1, stock: 42 });
    });

    it('refuses bad voucher input with 400 and writes nothing', async () => {
      const before = await count('SELECT COUNT(*) AS n FROM tb_voucher');
      const now = Date.now();
      const cases: [Record<string, unknown>, string][] = [
        [{ stock: 0 }, 'VALIDATION_FAILED'],
        [{ stock: 10_000_001 }, 'VALIDATION_FAILED'],
        [{ stock: 1.5 }, 'VALIDATION_FAILED'],
        [{ payValue: -1 }, 'VALIDATION_FAILED'],
        [{ shopId: 'shop-1' }, 'VALIDATION_FAILED'],
        [{ shopId: -4 }, 'VALIDATION_FAILED'],
        [{ beginTime: 'tomorrow' }, 'VALIDATION_FAILED'],
        // Valid ISO-8601, but year 10000 in UTC: beyond what DATETIME stores.
        [{ endTime: '9999-12-31T23:59:59-01:00' }, 'VALIDATION_FAILED'],
        [{ beginTime: '1969-12-31T23:59:59Z' }, 'VALIDATION_FAILED'],
        // Valid ISO-8601 without a UTC offset: it would be read in the replica's time zone.
        [{ beginTime: '2026-11-22T10:00:00' }, 'VALIDATION_FAILED'],
        [{ endTime: '2099-11-22T10:00:00.000' }, 'VALIDATION_FAILED'],
        [{ endTime: '2099-11-22' }, 'VALIDATION_FAILED'],
        [{ type: 0 }, 'VALIDATION_FAILED'],
        [{ unknownField: 1 }, 'VALIDATION_FAILED'],
        [
          { beginTime: new Date(now + hour).toISOString(), endTime: new Date(now).toISOString() },
          'INVALID_TIME_WINDOW',
        ],
      ];
      for (const [overrides, code] of cases) {
        const response = await postSeckill(overrides);
        expect({ overrides, status: response.statusCode, code: response.json<{ code: string }>().code }).toEqual({
          overrides,
          status: 400,
          code,
        });
      }
      expect(await count('SELECT COUNT(*) AS n FROM tb_voucher')).toBe(before);
    });

    it('runs every MySQL session in UTC with short lock-wait and idle-transaction bounds', async () => {
      const dataSource = t.app.get(DataSource);
      const runners = await Promise.all(
        [1, 2, 3].map(async () => {
          const runner = dataSource.createQueryRunner();
          await runner.connect();
          return runner;
        }),
      );
      try {
        for (const runner of runners) {
          const [row] = (await runner.query(
            'SELECT @@session.time_zone AS tz, @@session.innodb_lock_wait_timeout AS lockWait, @@session.idle_transaction_timeout AS idle',
          )) as { tz: string; lockWait: number; idle: number }[];
          expect({ ...row, lockWait: Number(row.lockWait), idle: Number(row.idle) }).toEqual({
            tz: '+00:00',
            lockWait: 10,
            idle: 10,
          });
        }
      } finally {
        await Promise.all(runners.map((runner) => runner.release()));
      }
    });

    it('keeps voucher administration for admins', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/voucher',
        headers: { authorization: `Bearer ${await t.token('5')}` },
        payload: { shopId: 1, title: 'x', payValue: 1, actualValue: 2 },
      });
      expect(response.statusCode).toBe(403);
    });
  });

  describe('seckill orders', () => {
    itMarksRedisSoldOut(() => ({ t, db, redis }));

    it('sells one per user until sold out, then answers from Redis', async () => {
      const voucherId = await createSeckill({ stock: 2 });
      const first = await order(voucherId, '100');
      expect(first.statusCode).toBe(201);
      const { orderId } = first.json<{ orderId: string }>();
      expect((await order(voucherId, '100')).json()).toMatchObject({ code: 'ALREADY_ORDERED' });
      expect((await order(voucherId, '101')).statusCode).toBe(201);
      const soldOut = await order(voucherId, '102');
      expect(soldOut.statusCode).toBe(409);
      expect(soldOut.json()).toMatchObject({ code: 'SOLD_OUT' });
      expect(await count(`SELECT stock AS n FROM tb_seckill_voucher WHERE voucher_id = ${voucherId}`)).toBe(0);
      expect(await count(`SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ${voucherId}`)).toBe(2);
      expect(orderId).toMatch(/^\d+$/);
    });

    it('carries an order id above 2^53 unchanged from API to MySQL and back', async () => {
      const voucherId = await createSeckill();
      const { orderId } = (await order(voucherId, '200')).json<{ orderId: string }>();
      expect(BigInt(orderId) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      const [rows] = await db.query('SELECT CAST(id AS CHAR) AS id FROM tb_voucher_order WHERE user_id = 200');
      expect(rows).toEqual([{ id: orderId }]);
      const fetched = await t.app.inject({
        method: 'GET',
        url: `/voucher-order/${orderId}`,
        headers: { authorization: `Bearer ${await t.token('200')}` },
      });
      expect(fetched.json()).toMatchObject({ id: orderId, userId: '200', voucherId, status: 1 });
      // Another user does not see it; an admin does.
      const other = await t.app.inject({
        method: 'GET',
        url: `/voucher-order/${orderId}`,
        headers: { authorization: `Bearer ${await t.token('201')}` },
      });
      expect(other.statusCode).toBe(404);
      const asAdmin = await t.app.inject({ method: 'GET', url: `/voucher-order/${orderId}`, headers: admin });
      expect(asAdmin.json()).toMatchObject({ id: orderId });
    });

    it('refuses orders outside the window and for unknown vouchers, writing nothing', async () => {
      const future = await createSeckill({
        beginTime: new Date(Date.now() + hour).toISOString(),
        endTime: new Date(Date.now() + 2 * hour).toISOString(),
      });
      const past = await createSeckill({
        beginTime: new Date(Date.now() - 2 * hour).toISOString(),
        endTime: new Date(Date.now() - hour).toISOString(),
      });
      const before = await count('SELECT COUNT(*) AS n FROM tb_voucher_order');
      expect((await order(future, '300')).json()).toMatchObject({ code: 'NOT_STARTED' });
      expect((await order(past, '300')).json()).toMatchObject({ code: 'ENDED' });
      const unknown = await order('999999999', '300');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ code: 'VOUCHER_NOT_FOUND' });
      for (const bad of ['abc', '-1', '1e999', '1'.repeat(30), '0']) {
        const response = await order(bad, '300');
        expect({ bad, status: response.statusCode, body: response.json() }).toMatchObject({
          bad,
          status: 400,
          body: { code: 'INVALID_ID' },
        });
      }
      expect(await count('SELECT COUNT(*) AS n FROM tb_voucher_order')).toBe(before);
    });

    it('answers ENDED for a sale ended long ago (its Redis state expired) without asking MySQL again', async () => {
      const longAgo = await createSeckill({
        beginTime: new Date(Date.now() - 72 * hour).toISOString(),
        endTime: new Date(Date.now() - 48 * hour).toISOString(),
      });
      expect(await redis.exists(`seckill:{${longAgo}}`)).toBe(0);
      const repository = t.app.get(VoucherRepository);
      const findSeckill = jest.spyOn(repository, 'findSeckill');
      try {
        for (const userId of ['610', '611', '612']) {
          const response = await order(longAgo, userId);
          expect({ status: response.statusCode, code: response.json<{ code: string }>().code }).toEqual({
            status: 409,
            code: 'ENDED',
          });
        }
        expect(findSeckill).toHaveBeenCalledTimes(1);
      } finally {
        findSeckill.mockRestore();
      }
      // Nor did the lookups leave partial hashes behind.
      expect(await redis.exists(`seckill:{${longAgo}}`)).toBe(0);
    });

    it('gives an order a fresh id when its id is taken (the counter went back), instead of ALREADY_ORDERED', async () => {
      const voucherId = await createSeckill({ stock: 5 });
      const seconds = Math.floor(Date.now() / 1000);
      const key = counterKey('order', seconds);
      const next = Number((await redis.get(key)) ?? 0) + 1;
      // Rows of another buyer already hold the next id of every second around now.
      const taken = Array.from({ length: 6 }, (_, i) => composeId(seconds - 1 + i, next).toString());
      for (const [i, id] of taken.entries()) {
        await db.query('INSERT INTO tb_voucher_order (id, user_id, voucher_id) VALUES (?, ?, ?)', [
          id,
          990_000 + i,
          424_242,
        ]);
      }
      try {
        const response = await order(voucherId, '620');
        expect(response.statusCode).toBe(201);
        const { orderId } = response.json<{ orderId: string }>();
        expect(taken).not.toContain(orderId);
        const [rows] = await db.query('SELECT user_id FROM tb_voucher_order WHERE id = ?', [orderId]);
        expect(rows).toEqual([{ user_id: 620 }]);
      } finally {
        await db.query(`DELETE FROM tb_voucher_order WHERE voucher_id = 424242`);
      }
    });

    it('falls back to MySQL when Redis lost the sale state, and republishes it', async () => {
      const voucherId = await createSeckill({ stock: 5 });
      await redis.del(`seckill:{${voucherId}}`);
      expect((await order(voucherId, '400')).statusCode).toBe(201);
      expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('4');
    });

    it('lets the reconciler repair drifted Redis stock from MySQL', async () => {
      const voucherId = await createSeckill({ stock: 7 });
      await redis.hset(`seckill:{${voucherId}}`, 'stock', 0);
      expect((await order(voucherId, '500')).json()).toMatchObject({ code: 'SOLD_OUT' });
      const reconciler = t.app.get(VoucherReconciler);
      await reconciler.reconcile(); // first round: MySQL might still be moving, so it only looks
      expect(await reconciler.reconcile()).toBeGreaterThanOrEqual(1);
      expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('7');
      expect((await order(voucherId, '500')).statusCode).toBe(201);
    });

    it('lets the reconciler republish a lost sale state at once', async () => {
      const voucherId = await createSeckill({ stock: 9 });
      await redis.del(`seckill:{${voucherId}}`);
      expect(await t.app.get(VoucherReconciler).reconcile()).toBeGreaterThanOrEqual(1);
      expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('9');
    });

    it('shows an admin the sale as MySQL, Redis and the reconciler see it (GET /admin/sales/:id)', async () => {
      const voucherId = await createSeckill({ stock: 6 });
      expect((await order(voucherId, '601')).statusCode).toBe(201);
      expect((await order(voucherId, '602')).statusCode).toBe(201);
      await t.app.get(VoucherReconciler).reconcile();
      const view = await t.app.inject({ method: 'GET', url: `/admin/sales/${voucherId}`, headers: admin });
      expect(view.statusCode).toBe(200);
      expect(view.json()).toEqual({
        voucherId,
        title: '100 off',
        beginTime: expect.any(String),
        endTime: expect.any(String),
        mysqlStock: 4,
        redis: { published: true, stock: 4, buyers: 2, accepted: null, settled: null },
        reconciler: {
          lastRoundAt: expect.any(String),
          instanceId: 'test-app',
          repaired: expect.any(Number),
          error: null,
        },
        orderMode: 'sync',
        orders: { mysqlOrders: 2, byStatus: { '1': 2 }, returnedUnits: 0, async: null },
      });
      // Admins only; an unknown or malformed id is a 4xx.
      const asUser = await t.app.inject({
        method: 'GET',
        url: `/admin/sales/${voucherId}`,
        headers: { authorization: `Bearer ${await t.token('601')}` },
      });
      expect(asUser.statusCode).toBe(403);
      const missing = await t.app.inject({ method: 'GET', url: '/admin/sales/987654321', headers: admin });
      expect({ status: missing.statusCode, code: missing.json<{ code: string }>().code }).toEqual({
        status: 404,
        code: 'VOUCHER_NOT_FOUND',
      });
      expect((await t.app.inject({ method: 'GET', url: '/admin/sales/abc', headers: admin })).statusCode).toBe(400);
    });

    it('requires authentication', async () => {
      const voucherId = await createSeckill();
      const response = await t.app.inject({ method: 'POST', url: `/voucher-order/seckill/${voucherId}` });
      expect(response.statusCode).toBe(401);
    });
  });
});

describe('A replica stuck inside an order transaction (MariaDB idle_transaction_timeout)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MYSQL_IDLE_TRANSACTION_TIMEOUT_S: '1' });
  });
  afterAll(() => t?.close());

  it('has its connection ended and its row lock released, so the others can write the row', async () => {
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.connect();
    const other = await createConnection(t.mysqlUrl);
    try {
      await runner.query("INSERT INTO tb_voucher (shop_id, title, pay_value, actual_value) VALUES (1, 'x', 1, 1)");
      const [{ id }] = (await runner.query('SELECT MAX(id) AS id FROM tb_voucher')) as { id: string }[];
      await runner.startTransaction();
      await runner.query('UPDATE tb_voucher SET title = ? WHERE id = ?', ['held', id]);
      // The "replica" goes silent while it holds the row; another one wants the same row.
      const started = performance.now();
      await other.query('UPDATE tb_voucher SET title = ? WHERE id = ?', ['other', id]);
      const waitedMs = performance.now() - started;
      expect(waitedMs).toBeLessThan(5000);
      const [[row]] = (await other.query('SELECT title FROM tb_voucher WHERE id = ?', [id])) as unknown as [
        [{ title: string }],
      ];
      expect(row.title).toBe('other');
      await expect(runner.query('SELECT 1')).rejects.toBeDefined();
    } finally {
      await runner.release().catch(() => undefined);
      await other.end();
    }
  });
});

/**
 * MySQL refuses an admitted order for want of stock: Redis is marked sold out. Run on the default
 * group commit (ORDER_SYNC_BATCH_MAX=64, the first describe's app) and on one transaction per order.
 */
function itMarksRedisSoldOut(app: () => { t: TestApp; db: Connection; redis: Redis }): void {
  it('a refused order sets the Redis stock to 0 when MySQL has none left, the reserved unit included', async () => {
    const { t, db, redis } = app();
    const voucherId = await t.createSeckill(2);
    // Redis believes in 2 units, MySQL has none left (drift the reconciler has not repaired yet).
    await db.query('UPDATE tb_seckill_voucher SET stock = 0 WHERE voucher_id = ?', [voucherId]);
    const refused = await t.order(voucherId, '110');
    expect(refused.json()).toMatchObject({ code: 'SOLD_OUT' });
    expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('0');
    const [rows] = await db.query('SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);
    expect(Number((rows as { n: number }[])[0].n)).toBe(0);
  });
}

describe('One transaction per order (ORDER_SYNC_BATCH_MAX=1)', () => {
  let t: TestApp;
  let db: Connection;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ ORDER_SYNC_BATCH_MAX: '1' });
    db = await createConnection(t.mysqlUrl);
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    await db?.end();
    redis?.disconnect();
    await t?.close();
  });

  itMarksRedisSoldOut(() => ({ t, db, redis }));
});
