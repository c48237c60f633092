import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/main';
import { DEV_JWT_SECRET } from '../../scripts/stack/local-stack';
import { runMigrations } from '../../scripts/stack/migrations';
import { createTestDatabase, startTestRedis } from './shared-stack';
import type { RedisServer } from '../../scripts/stack/redis';

export interface TestApp {
  app: NestFastifyApplication;
  redis: RedisServer;
  mysqlUrl: string;
  /** Mints a token through the dev-token route. */
  token(userId: string, role?: 'user' | 'admin'): Promise<string>;
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
  return {
    app,
    redis,
    mysqlUrl,
    async token(userId, role = 'user') {
      const response = await app.inject({ method: 'POST', url: '/auth/dev-token', payload: { userId, role } });
      return response.json<{ token: string }>().token;
    },
    async close() {
      await app.close();
      await redis.stop();
    },
  };
}
