import { Cluster, Redis, type RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';

/**
 * The app's Redis: one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). Both speak
 * the same commands; every key a script or a multi-key command touches shares one hash tag (the
 * voucher's, the lock's), so each runs on the master owning that slot.
 */
export type AppRedis = Redis | Cluster;

/** Bound on any command of the shared connection, queueing while reconnecting included. */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

/** Where the app's Redis is: the configuration's three ways to say it. */
export interface RedisTarget {
  REDIS_URL: string;
  /** Seed nodes of a Redis Cluster; when given, REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: string[];
  /** Redis Sentinels that know the master `REDIS_SENTINEL_NAME`; when given, REDIS_URL only lends its credentials. */
  REDIS_SENTINELS?: string[];
  REDIS_SENTINEL_NAME?: string;
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

/** The user and password a `redis://user:pass@host` URL carries (URL-decoded). */
function credentialsOf(url: URL): { username?: string; password?: string } {
  return {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
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
        ...credentialsOf(first),
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

/**
 * The master that Redis Sentinels name (`sentinels`: `redis://host:port` URLs of the sentinels),
 * followed through failovers: on a dropped connection the client asks the sentinels again, and it
 * listens for their `+switch-master` to move at once. `masterUrl`'s user/password (if any) are the
 * master's.
 */
export function createSentinelConnection(
  target: { sentinels: string[]; masterName: string; masterUrl?: string },
  name: string,
  options: ConnectionOptions = {},
): Redis {
  const credentials = target.masterUrl ? new URL(target.masterUrl) : undefined;
  return new Redis({
    ...nodeOptions(name, options),
    sentinels: target.sentinels.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port || 26379) };
    }),
    name: target.masterName,
    ...(credentials ? credentialsOf(credentials) : {}),
    sentinelCommandTimeout: 1000,
    failoverDetector: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
  });
}

/** How often one connection may log its connection errors (a Redis down for a minute is one line per 5 s, not thousands). */
const ERROR_LOG_EVERY_MS = 5000;

/**
 * Logs a connection's errors (refused, reset, …) as warnings, at most one per ERROR_LOG_EVERY_MS with
 * the count of those left out; without a listener ioredis prints every one to stderr. The commands
 * themselves fail with their own errors (503s).
 */
export function logConnectionErrors(redis: AppRedis, name: string, logger: { warn(message: string): void }): void {
  let lastAt = 0;
  let skipped = 0;
  redis.on('error', (error: unknown) => {
    const now = Date.now();
    if (now - lastAt < ERROR_LOG_EVERY_MS) {
      skipped++;
      return;
    }
    logger.warn(
      `Redis connection ${name}: ${error instanceof Error ? error.message : String(error)}` +
        (skipped > 0 ? ` (and ${skipped} more since the last report)` : ''),
    );
    lastAt = now;
    skipped = 0;
  });
}

/** The app's Redis as configured: a Cluster (REDIS_CLUSTER_NODES), a Sentinel master (REDIS_SENTINELS), else REDIS_URL. */
export function connectAppRedis(target: RedisTarget, name: string, options: ConnectionOptions = {}): AppRedis {
  if (target.REDIS_CLUSTER_NODES.length > 0) {
    return createRedisCluster(target.REDIS_CLUSTER_NODES, name, options);
  }
  if (target.REDIS_SENTINELS?.length) {
    return createSentinelConnection(
      {
        sentinels: target.REDIS_SENTINELS,
        masterName: target.REDIS_SENTINEL_NAME ?? 'mymaster',
        masterUrl: target.REDIS_URL || undefined,
      },
      name,
      options,
    );
  }
  return createRedisConnection(target.REDIS_URL, name, options);
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
 * The node that serves `key`'s slot on a Cluster as far as this client knows (its slot map's first
 * node: the master), or `undefined` on one server or before the map is loaded. For grouping
 * per-master work; a routed command still follows MOVED itself.
 */
export function masterOf(redis: AppRedis, key: string): string | undefined {
  return redis instanceof Cluster ? redis.slots[calculateSlot(key)]?.[0] : undefined;
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
  // A MOVED/ASK on the routing command means the rest ran on a node that no longer owns the slot.
  if (replies[0]?.[0]) {
    throw replies[0][0];
  }
  return replies.slice(1).map(([error, value]) => {
    if (error) {
      throw error;
    }
    return value;
  });
}
