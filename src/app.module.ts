import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { appConfig, AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { OrderModule } from './order/order.module';
import { VoucherModule } from './voucher/voucher.module';
import { LockModule } from './lock/lock.module';
import { LockMetrics } from './metrics/lock-metrics';
import { RedisModule } from './redis/redis.module';
import { REDIS_CLIENT, REDIS_LOCK_NODES, REDIS_SUBSCRIBER } from './redis/redis.tokens';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        // pino-http costs every request a child logger even with autoLogging off; only debug needs it.
        ...(config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? {} : { forRoutes: [] }),
        pinoHttp: {
          level: config.LOG_LEVEL,
          base: { instance: config.INSTANCE_ID },
          // Per-request access logs cost throughput on the sale path; nginx can log instead.
          autoLogging: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace',
          redact: ['req.headers.authorization'],
        },
      }),
    }),
    ScheduleModule.forRoot(),
    MetricsModule,
    DatabaseModule,
    RedisModule,
    LockModule.forRootAsync({
      inject: [appConfig.KEY, REDIS_CLIENT, REDIS_SUBSCRIBER, REDIS_LOCK_NODES],
      useFactory: (config: AppConfig, client: Redis, subscriber: Redis, lockNodes: Redis[]) => {
        // Node 0 (REDIS_URL) serves single-node locks; REDIS_LOCK_NODES are the independent nodes.
        const nodes = [client, ...lockNodes.filter((node) => node !== client)];
        return {
          mode: config.LOCK_MODE,
          instanceId: config.INSTANCE_ID,
          nodes,
          subscriber,
          watchdogTimeoutMs: config.LOCK_WATCHDOG_TIMEOUT_MS,
          independentNodes: lockNodes.map((node) => nodes.indexOf(node)),
        };
      },
    }),
    AuthModule,
    HealthModule,
    AdminModule,
    VoucherModule,
    OrderModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }, LockMetrics],
})
export class AppModule {}
