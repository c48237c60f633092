import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { CommitCuttingProxy } from '../support/commit-cutting-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { sharedStack } from '../support/shared-stack';

/**
 * Sync sale, COMMIT reaches MySQL but its reply is lost (the connection is cut right after it):
 * the order exists, so the answer must be the 201 with its id — read back, never guessed.
 */
describe('A COMMIT whose reply is lost (real MariaDB behind a proxy that cuts the connection)', () => {
  let proxy: CommitCuttingProxy;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    proxy = await CommitCuttingProxy.start({ host: '127.0.0.1', port: sharedStack().mariadbPort });
    // The app reaches its database through the proxy; the test reads it directly.
    t = await startTestApp(
      {},
      { appMysqlUrl: (direct) => direct.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${proxy.port}`) },
    );
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
    await proxy?.stop();
  });

  it('answers 201 with the committed order, keeps the unit sold and records the buyer', async () => {
    const voucherId = await t.createSeckill(5);
    proxy.arm();
    const response = await t.order(voucherId, '77');
    expect(proxy.cutCount).toBe(1);
    expect(response.statusCode).toBe(201);
    const { orderId } = response.json<{ orderId: string }>();
    const db = await createConnection({ uri: t.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [rows] = await db.query('SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);
      expect(rows).toEqual([{ id: orderId, user_id: '77' }]);
      const [[sale]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
        voucherId,
      ])) as unknown as [[{ stock: number }]];
      expect(sale.stock).toBe(4);
    } finally {
      await db.end();
    }
    // The unit was not given back, and the buyer is known to Redis.
    expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('4');
    expect(await redis.sismember(`seckill:{${voucherId}}:buyers`, '77')).toBe(1);
  });

  it('answers 201 for an order whose COMMIT reaches the server after the client was cut (read back under a lock)', async () => {
    const voucherId = await t.createSeckill(5);
    // Longer than the old read-back's two plain reads 200 ms apart.
    proxy.arm({ commitDelayMs: 1500 });
    const response = await t.order(voucherId, '78');
    expect(proxy.cutCount).toBe(2);
    expect({ status: response.statusCode, body: response.json<unknown>() }).toMatchObject({
      status: 201,
      body: { orderId: expect.stringMatching(/^\d+$/) },
    });
    const { orderId } = response.json<{ orderId: string }>();
    const db = await createConnection({ uri: t.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [rows] = await db.query('SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);
      expect(rows).toEqual([{ id: orderId, user_id: '78' }]);
    } finally {
      await db.end();
    }
    expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('4');
  });
});
