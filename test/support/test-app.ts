import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/main';
import { DEV_JWT_SECRET } from '../../scripts/stack/local-stack';
import { runMigrations } from '../../scripts/stack/migrations';
import { createTestDatabase, startTestRedis } from './shared-stack';
import type { RedisServer } from '../../scripts/stack/redis';
import { MetricsServer, type InternalAnswer } from '../../src/metrics/metrics.server';

export interface TestApp {
  app: NestFastifyApplication;
  redis: RedisServer;
  mysqlUrl: string;
  /** Mints a token through the dev-token route. */
  token(userId: string, role?: 'user' | 'admin'): Promise<string>;
  /** Creates a seckill voucher as an admin (window relative to now, default ±1 h); returns its id. */
  createSeckill(stock: number, window?: { fromMs: number; toMs: number }): Promise<string>;
  /** `GET path` on the internal listener (METRICS_PORT: `/metrics`, `/health/ready`), without opening its port. */
  internal(path: string): Promise<InternalAnswer>;
  /** `POST /voucher-order/seckill/:voucherId` as `userId`. */
  order(voucherId: string, userId: string): ReturnType<NestFastifyApplication['inject']>;
  close(): Promise<void>;
}

/**
 * The real app in this process (Fastify inject, no socket) on a fresh database with migrations
 * applied and a private redis-server.
 */
export async function startTestApp(
  env: NodeJS.ProcessEnv = {},
  options: {
    durableRedis?: boolean;
    /** The URL the app uses for the test's database (e.g. through a proxy); tests read it directly. */
    appMysqlUrl?: (direct: string) => string;
  } = {},
): Promise<TestApp> {
  const redis = await startTestRedis('redis', { durable: options.durableRedis });
  const mysqlUrl = await createTestDatabase();
  await runMigrations(mysqlUrl);
  Object.assign(process.env, {
    MYSQL_URL: options.appMysqlUrl ? options.appMysqlUrl(mysqlUrl) : mysqlUrl,
    REDIS_URL: redis.url,
    AUTH_JWT_SECRET: DEV_JWT_SECRET,
    AUTH_DEV_TOKENS: 'true',
    INSTANCE_ID: 'test-app',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_USER_PER_SECOND: '0',
    ...env,
  });
  let app: NestFastifyApplication;
  try {
    app = await createApp();
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const testApp: TestApp = {
    app,
    redis,
    mysqlUrl,
    async token(userId, role = 'user') {
      const response = await app.inject({ method: 'POST', url: '/auth/dev-token', payload: { userId, role } });
      return response.json<{ token: string }>().token;
    },
    async createSeckill(stock, window = { fromMs: -3_600_000, toMs: 3_600_000 }) {
      const response = await app.inject({
        method: 'POST',
        url: '/voucher/seckill',
        headers: { authorization: `Bearer ${await testApp.token('1', 'admin')}` },
        payload: {
          shopId: 1,
          title: 'flash',
          payValue: 100,
          actualValue: 1000,
          stock,
          beginTime: new Date(Date.now() + window.fromMs).toISOString(),
          endTime: new Date(Date.now() + window.toMs).toISOString(),
        },
      });
      if (response.statusCode !== 201) {
        throw new Error(`voucher creation failed: ${response.statusCode} ${response.body}`);
      }
      return response.json<{ id: string }>().id;
    },
    internal(path) {
      return app.get(MetricsServer).answer('GET', path);
    },
    async order(voucherId, userId) {
      return app.inject({
        method: 'POST',
        url: `/voucher-order/seckill/${voucherId}`,
        headers: { authorization: `Bearer ${await testApp.token(userId)}` },
      });
    },
    async close() {
      await app.close();
      await redis.stop();
    },
  };
  return testApp;
}
