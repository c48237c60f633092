import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { appConfig, AppConfig } from '../config/app-config';
import {
  type AppRedis,
  connectAppRedis,
  createRedisConnection,
  logConnectionErrors,
  REDIS_COMMAND_TIMEOUT_MS,
  untilReady,
} from './redis-connections';
import { REDIS_CLIENT, REDIS_LOCK_CLIENT, REDIS_LOCK_NODES, REDIS_SUBSCRIBER } from './redis.tokens';

/** A Cluster takes commands once it knows its slots: start-up waits this long for that, then goes on (503s until then). */
const CLUSTER_READY_WAIT_MS = 5000;

const logger = new Logger('Redis');

async function connected(redis: AppRedis, name: string): Promise<AppRedis> {
  logConnectionErrors(redis, name, logger);
  if (redis.isCluster) {
    await untilReady(redis, CLUSTER_READY_WAIT_MS).catch(() => undefined);
  }
  return redis;
}

function lockNode(url: string, name: string): AppRedis {
  const node = createRedisConnection(url, name);
  logConnectionErrors(node, name, logger);
  return node;
}

/** Both command connections: auto-pipelined, and every command answers within the bound or fails. */
const commandConnection = (config: AppConfig, role: string) =>
  connected(
    connectAppRedis(config, `${config.INSTANCE_ID}:${role}`, {
      autoPipelining: true,
      // Every command answers within this or fails (503 REDIS_UNAVAILABLE), also while reconnecting.
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    }),
    role,
  );

/**
 * Redis connections: one for the app's commands, one for the lock library's, one dedicated
 * subscriber (a connection in subscribe mode cannot run other commands), and one per independent
 * lock node. With REDIS_CLUSTER_NODES the first three are Cluster clients (the subscriber listens on
 * every master, for sharded pub/sub).
 *
 * The locks have a connection of their own because ioredis keeps one auto-pipeline in flight per
 * connection: on the app's, a synchronous order's lock acquire and release would each wait for the
 * sale's pipeline in flight (its Redis round trip, and on `appendfsync always` its fsync) before
 * being sent, and a watchdog renewal behind a busy sale's traffic. See docs/BENCHMARKS.md
 * ("A connection of its own for the locks").
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => commandConnection(config, 'cmd'),
    },
    {
      provide: REDIS_LOCK_CLIENT,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => commandConnection(config, 'lock'),
    },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) =>
        connected(connectAppRedis(config, `${config.INSTANCE_ID}:sub`, { shardedSubscribers: true }), 'sub'),
    },
    {
      provide: REDIS_LOCK_NODES,
      inject: [appConfig.KEY, REDIS_LOCK_CLIENT],
      // Without REDIS_LOCK_NODES on a Cluster, MultiLock/RedLock run on the Cluster as one node.
      useFactory: (config: AppConfig, client: AppRedis) =>
        config.REDIS_LOCK_NODES.length === 0
          ? [client]
          : config.REDIS_LOCK_NODES.map((url, i) =>
              url === config.REDIS_URL ? client : lockNode(url, `${config.INSTANCE_ID}:lock-node-${i + 1}`),
            ),
    },
  ],
  exports: [REDIS_CLIENT, REDIS_LOCK_CLIENT, REDIS_SUBSCRIBER, REDIS_LOCK_NODES],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: AppRedis,
    @Inject(REDIS_LOCK_CLIENT) private readonly lockClient: AppRedis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: AppRedis,
    @Inject(REDIS_LOCK_NODES) private readonly lockNodes: AppRedis[],
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const connections = new Set([this.client, this.lockClient, this.subscriber, ...this.lockNodes]);
    await Promise.all([...connections].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
