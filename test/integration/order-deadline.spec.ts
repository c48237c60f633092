import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Sync sale: an order still in its transaction when the request's deadline passes is rolled back
 * before COMMIT, so it never commits after nginx gave up (504) on it.
 */
describe('ORDER_REQUEST_DEADLINE_MS (in-process app, real MariaDB + Redis)', () => {
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ ORDER_REQUEST_DEADLINE_MS: '300' });
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  it('rolls back an order that would commit after the deadline and answers 503 ORDER_DEADLINE_EXCEEDED', async () => {
    const voucherId = await t.createSeckill(5);
    const order = (userId: string) => t.order(voucherId, userId);
    const db = await createConnection(t.mysqlUrl);
    try {
      // Another transaction holds the stock row for a second: the order's UPDATE waits past its deadline.
      await db.beginTransaction();
      await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
      const late = order('81');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await db.rollback();
      const response = await late;
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'ORDER_DEADLINE_EXCEEDED' });
      expect(response.headers['retry-after']).toBe('1');
      const [rows] = await db.query('SELECT id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);
      expect(rows).toEqual([]);
      // The reserved unit went back; an order in time is placed.
      expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('5');
      expect((await order('82')).statusCode).toBe(201);
    } finally {
      await db.end();
    }
  });
});
