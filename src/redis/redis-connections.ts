import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * The app's Redis: one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). Both speak
 * the same commands; every key a script or a multi-key command touches shares one hash tag (the
 * voucher's, the lock's), so each runs on the master owning that slot.
 */
export type AppRedis = Redis | Cluster;

/** Bound on any command of the shared connection, queueing while reconnecting included. */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

/** Where the app's Redis is: the configuration's two ways to say it. */
export interface RedisTarget {
  REDIS_URL: string;
  /** Seed nodes of a Redis Cluster; when given, REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: string[];
}

export interface ConnectionOptions {
  /** Commands issued by concurrent requests in one event-loop turn share one socket write. */
  autoPipelining?: boolean;
  commandTimeoutMs?: number;
  /** Cluster only: one subscriber per master, so sharded pub/sub (SSUBSCRIBE) reaches every shard. */
  shardedSubscribers?: boolean;
}

/** Options every connection shares: fail fast while disconnected instead of queueing forever. */
function nodeOptions(name: string, options: ConnectionOptions): RedisOptions {
  return {
    commandTimeout: options.commandTimeoutMs,
    connectionName: name,
    // Lock, stock and id scripts are not idempotent: a command whose reply was lost with the
    // connection must fail, not run a second time after reconnecting.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 2,
    connectTimeout: 2000,
  };
}

/** A connection to one Redis server. */
export function createRedisConnection(url: string, name: string, options: ConnectionOptions = {}): Redis {
  return new Redis(url, {
    ...nodeOptions(name, options),
    enableAutoPipelining: options.autoPipelining ?? false,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  });
}

/**
 * A Redis Cluster client from seed URLs (`redis://[user:pass@]host:port`; the first URL's
 * credentials and TLS apply to every node the cluster reports).
 */
export function createRedisCluster(urls: string[], name: string, options: ConnectionOptions = {}): Cluster {
  const first = new URL(urls[0]);
  return new Cluster(
    urls.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    }),
    {
      redisOptions: {
        ...nodeOptions(name, options),
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
        tls: first.protocol === 'rediss:' ? {} : undefined,
      },
      enableAutoPipelining: options.autoPipelining ?? false,
      // The cluster's own queue (while it (re)discovers its slots) has no timeout: a command then
      // fails at once (503) instead of waiting without bound. Each node's queue is bounded by
      // commandTimeout like a single server's.
      enableOfflineQueue: false,
      shardedSubscribers: options.shardedSubscribers ?? false,
      clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
      slotsRefreshTimeout: 2000,
    },
  );
}

/** The app's Redis as configured: a Cluster when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
export function connectAppRedis(target: RedisTarget, name: string, options: ConnectionOptions = {}): AppRedis {
  return target.REDIS_CLUSTER_NODES.length > 0
    ? createRedisCluster(target.REDIS_CLUSTER_NODES, name, options)
    : createRedisConnection(target.REDIS_URL, name, options);
}

/**
 * Resolves once the client can take commands (a Cluster has learnt its slots), or rejects after
 * `timeoutMs`: a Cluster refuses commands until then (no offline queue).
 */
export async function untilReady(redis: AppRedis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') {
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** The masters: the server itself, or every master of a Cluster (settings are per server). */
export function mastersOf(redis: AppRedis): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * Runs keyless commands (`TIME`, `WAIT`) on the server that owns `routingKey`'s slot: on a Cluster
 * a pipeline goes to the node of its keyed commands, so a cheap `EXISTS routingKey` leads the way.
 * On one server the key changes nothing. Replies of `build`'s commands, in order.
 */
export async function onNodeOf(
  redis: AppRedis,
  routingKey: string,
  build: (pipeline: ReturnType<AppRedis['pipeline']>) => void,
): Promise<unknown[]> {
  const pipeline = redis.pipeline().exists(routingKey);
  build(pipeline);
  const replies = (await pipeline.exec()) ?? [];
  return replies.slice(1).map(([error, value]) => {
    if (error) {
      throw error;
    }
    return value;
  });
}
