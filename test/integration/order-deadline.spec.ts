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

  it('keeps the deadline on a monotonic clock: a wall clock stepped back does not let the order commit late', async () => {
    const voucherId = await t.createSeckill(5);
    const authorization = `Bearer ${await t.token('83')}`;
    const db = await createConnection(t.mysqlUrl);
    const wallClock = Date.now.bind(Date);
    try {
      await db.beginTransaction();
      await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
      const late = t.app.inject({
        method: 'POST',
        url: `/voucher-order/seckill/${voucherId}`,
        headers: { authorization },
      });
      // Once the order waits for the stock row (its deadline set), NTP steps the wall clock back an hour.
      for (let waited = 0; ; waited += 10) {
        const [waiting] = await db.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE%tb_seckill_voucher%'",
        );
        if (Number((waiting as { n: number }[])[0].n) > 0) {
          break;
        }
        expect(waited).toBeLessThan(250);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const stepped = jest.spyOn(Date, 'now').mockImplementation(() => wallClock() - 3_600_000);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await db.rollback();
        const response = await late;
        expect({ status: response.statusCode, code: response.json<{ code?: string }>().code }).toEqual({
          status: 503,
          code: 'ORDER_DEADLINE_EXCEEDED',
        });
      } finally {
        stepped.mockRestore();
      }
      const [rows] = await db.query('SELECT id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);
      expect(rows).toEqual([]);
    } finally {
      await db.end();
    }
  });
});
