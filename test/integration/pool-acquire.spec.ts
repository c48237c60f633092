import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * mysql2's pool queues a request for a connection without end when all are taken; the app bounds
 * that wait (MYSQL_POOL_ACQUIRE_TIMEOUT_MS) and answers 503 instead of hanging.
 */
describe('MYSQL_POOL_ACQUIRE_TIMEOUT_MS (in-process app, real MariaDB + Redis)', () => {
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ MYSQL_POOL_SIZE: '1', MYSQL_POOL_ACQUIRE_TIMEOUT_MS: '300' });
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  it('answers 503 DATABASE_UNAVAILABLE when no pooled connection frees up in time, and recovers', async () => {
    const voucherId = await t.createSeckill(5);
    // Takes the pool's only connection, as a transaction stuck on the hot row would.
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.connect();
    try {
      const started = performance.now();
      const response = await t.order(voucherId, '81');
      const ms = performance.now() - started;
      expect({ status: response.statusCode, code: response.json<{ code: string }>().code }).toEqual({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
      });
      expect(ms).toBeLessThan(3000);
      // The unit reserved for it went back.
      expect(await redis.hget(`seckill:{${voucherId}}`, 'stock')).toBe('5');
    } finally {
      await runner.release();
    }
    // The connection freed, orders go through again on it (a late arrival was handed back, not leaked).
    expect((await t.order(voucherId, '82')).statusCode).toBe(201);
    expect((await t.order(voucherId, '83')).statusCode).toBe(201);
  });
});
