import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { appConfig, AppConfig } from '../config/app-config';
import { REDIS_CLIENT, REDIS_LOCK_NODES, REDIS_SUBSCRIBER } from './redis.tokens';

/** Bound on any command of the shared connection, queueing while reconnecting included. */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

/** Shared connection options: fail fast while disconnected instead of queueing forever. */
export function createRedisConnection(
  url: string,
  name: string,
  options: { autoPipelining?: boolean; commandTimeoutMs?: number } = {},
): Redis {
  return new Redis(url, {
    commandTimeout: options.commandTimeoutMs,
    connectionName: name,
    // Commands issued by concurrent requests in one event-loop turn share one socket write.
    enableAutoPipelining: options.autoPipelining ?? false,
    // Lock, stock and id scripts are not idempotent: a command whose reply was lost with the
    // connection must fail, not run a second time after reconnecting.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  });
}

/**
 * Redis connections: one for commands, one dedicated subscriber (a connection in subscribe
 * mode cannot run other commands), and one per independent lock node.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) =>
        createRedisConnection(config.REDIS_URL, `${config.INSTANCE_ID}:cmd`, {
          autoPipelining: true,
          // Every command answers within this or fails (503 REDIS_UNAVAILABLE), also while reconnecting.
          commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
        }),
    },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => createRedisConnection(config.REDIS_URL, `${config.INSTANCE_ID}:sub`),
    },
    {
      provide: REDIS_LOCK_NODES,
      inject: [appConfig.KEY, REDIS_CLIENT],
      useFactory: (config: AppConfig, client: Redis) =>
        config.REDIS_LOCK_NODES.map((url, i) =>
          url === config.REDIS_URL ? client : createRedisConnection(url, `${config.INSTANCE_ID}:lock-node-${i + 1}`),
        ),
    },
  ],
  exports: [REDIS_CLIENT, REDIS_SUBSCRIBER, REDIS_LOCK_NODES],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(REDIS_LOCK_NODES) private readonly lockNodes: Redis[],
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const connections = new Set([this.client, this.subscriber, ...this.lockNodes]);
    await Promise.all([...connections].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
