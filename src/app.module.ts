import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { AppRedis } from './redis/redis-connections';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { requestIdOf } from './common/request-id';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { appConfig, AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { OrderModule } from './order/order.module';
import { AsyncOrderModule } from './order/async/async-order.module';
import type { Environment } from './config/environment';
import { VoucherModule } from './voucher/voucher.module';
import type { MySqlTableLockBackend } from '@seckill/lock/mysql';
import { LockModule } from '@seckill/lock/nest';
import { LockTableModule } from './lock-table/lock-table.module';
import { LOCK_TABLE_BACKEND } from './lock-table/lock-table.tokens';
import { LockMetrics } from './metrics/lock-metrics';
import { RedisModule } from './redis/redis.module';
import { REDIS_LOCK_CLIENT, REDIS_LOCK_NODES, REDIS_SUBSCRIBER } from './redis/redis.tokens';
import { lockNodesOf } from './redis/lock-nodes';
import { BenchModule } from './bench/bench.module';

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
          // Requests are logged by one Fastify hook for every route (src/common/request-log.ts).
          autoLogging: false,
          // nginx's X-Request-Id (or a fresh one) on every request's log lines and error lines.
          genReqId: (request: IncomingMessage) => requestIdOf(request.headers),
          // Requests are logged by method, path (no query string: it may carry a token) and id — never
          // a header; responses by status.
          serializers: {
            req: (request: { id?: unknown; method?: string; url?: string }) => ({
              id: request.id,
              method: request.method,
              path: request.url?.split('?')[0],
            }),
            res: (response: { statusCode?: number }) => ({ status: response.statusCode }),
          },
        },
      }),
    }),
    ScheduleModule.forRoot(),
    MetricsModule,
    DatabaseModule,
    RedisModule,
    LockModule.forRootAsync({
      imports: [LockTableModule],
      inject: [appConfig.KEY, REDIS_LOCK_CLIENT, REDIS_SUBSCRIBER, REDIS_LOCK_NODES, LOCK_TABLE_BACKEND],
      useFactory: (
        config: AppConfig,
        client: AppRedis,
        subscriber: AppRedis,
        lockNodes: AppRedis[],
        lockTable: MySqlTableLockBackend | null,
      ) => {
        // Node 0 (REDIS_URL, on the locks' own connection) serves single-node locks; REDIS_LOCK_NODES
        // are the independent nodes.
        const { nodes, independentNodes } = lockNodesOf(client, lockNodes);
        return {
          mode: config.LOCK_MODE,
          instanceId: config.INSTANCE_ID,
          nodes,
          subscriber,
          watchdogTimeoutMs: config.LOCK_WATCHDOG_TIMEOUT_MS,
          // On a Cluster release messages stay on the lock's shard (the subscriber listens on every master).
          shardedPubSub: client.isCluster,
          replicaSync:
            config.LOCK_REPLICA_SYNC > 0
              ? { replicas: config.LOCK_REPLICA_SYNC, timeoutMs: config.LOCK_REPLICA_SYNC_TIMEOUT_MS }
              : undefined,
          independentNodes,
          backends: lockTable ? [lockTable] : [],
          defaultBackend: config.LOCK_BACKEND,
        };
      },
    }),
    AuthModule,
    HealthModule,
    AdminModule,
    VoucherModule,
    OrderModule,
    // Serves nothing unless BENCH_NOOP_ROUTE=true.
    BenchModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }, LockMetrics],
})
export class AppModule {
  /**
   * The app for this environment: with ORDER_MODE=async the asynchronous order path (its admission,
   * stream consumers, recovery and rebuild) too; in sync mode none of its providers exists. Decided when
   * the app is created (`createApp` passes the validated environment), not when this file is imported:
   * tests start apps of both modes in one process.
   */
  static forEnvironment(env: Pick<Environment, 'ORDER_MODE'>): DynamicModule {
    return { module: AppModule, imports: env.ORDER_MODE === 'async' ? [AsyncOrderModule] : [] };
  }
}
