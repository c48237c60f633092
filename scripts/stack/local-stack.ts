import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppReplica } from './app-replica';
import { MariaDbServer } from './mariadb';
import { runMigrations } from './migrations';
import { NginxServer } from './nginx';
import { RedisServer } from './redis';
import { RedisCluster } from './redis-cluster';
import { RedisSentinelGroup, SENTINEL_MASTER_NAME } from './redis-sentinel';

/** What to start. Every server listens on a free port inside `root` (a new temp folder by default). */
export interface LocalStackOptions {
  replicas?: number;
  /** Independent Redis nodes for MultiLock/RedLock, besides the main one. */
  lockNodes?: number;
  /**
   * A Redis Cluster (3 masters + 3 replicas, durable) instead of one Redis: the replicas get
   * REDIS_CLUSTER_NODES, not REDIS_URL.
   */
  redisCluster?: boolean;
  /**
   * A Redis master with two replicas and three Sentinels (durable) instead of one Redis: the replicas
   * get REDIS_SENTINELS, and the sentinels fail the master over ~1 s after it stops answering.
   */
  redisSentinel?: boolean;
  /** Use this database (tests share one MariaDB) instead of starting a MariaDB. */
  mysqlUrl?: string;
  /** Extra environment for the replicas. */
  env?: NodeJS.ProcessEnv;
  /** nginx port; omitted or 0 = any free port. */
  nginxPort?: number;
  root?: string;
}

/** Handles to every server of a running local stack, for use and for fault injection. */
export interface LocalStack {
  root: string;
  /** Absent when the stack was given `mysqlUrl`. */
  mariadb?: MariaDbServer;
  mysqlUrl: string;
  /** The Redis; on a Redis Cluster stack, the cluster's first master (e.g. to kill it). */
  redis: RedisServer;
  /** Present on a Redis Cluster stack (`redisCluster`). */
  redisCluster?: RedisCluster;
  /** Present on a Sentinel stack (`redisSentinel`); `redis` is its first master. */
  redisSentinel?: RedisSentinelGroup;
  lockNodes: RedisServer[];
  replicas: AppReplica[];
  nginx?: NginxServer;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export const DEV_JWT_SECRET = 'local-stack-dev-secret-change-me-0123456789';

/** Starts MariaDB, Redis, N replicas of dist/main.js and nginx in front of them. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'seckill-stack-'));
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const server of started.reverse()) {
      await server.stop().catch(() => undefined);
    }
    if (options.root === undefined) {
      rmSync(root, { recursive: true, force: true });
    }
  };
  try {
    let mariadb: MariaDbServer | undefined;
    let mysqlUrl = options.mysqlUrl;
    if (mysqlUrl === undefined) {
      mariadb = await MariaDbServer.start(join(root, 'mariadb'));
      started.push(mariadb);
      mysqlUrl = await mariadb.createDatabase('seckill');
    }
    // Durable (AOF, fsync on every write) so ORDER_MODE=async may start and survives a Redis crash.
    let redis: RedisServer;
    let redisCluster: RedisCluster | undefined;
    let redisSentinel: RedisSentinelGroup | undefined;
    if (options.redisSentinel) {
      // Two replicas: after a failover the new master still has one (ORDER_DURABILITY=replicas needs it).
      redisSentinel = await RedisSentinelGroup.start(join(root, 'redis-sentinel'), 'redis-sentinel', {
        durable: true,
        replicas: 2,
      });
      started.push(redisSentinel);
      redis = redisSentinel.master;
    } else if (options.redisCluster) {
      redisCluster = await RedisCluster.start(join(root, 'redis-cluster'), 'redis-cluster', {
        masters: 3,
        replicasPerMaster: 1,
        durable: true,
      });
      started.push(redisCluster);
      redis = redisCluster.servers[0];
    } else {
      redis = await RedisServer.start(join(root, 'redis'), 'redis', { durable: true });
      started.push(redis);
    }
    const lockNodes: RedisServer[] = [];
    for (let i = 0; i < (options.lockNodes ?? 0); i++) {
      const node = await RedisServer.start(join(root, `redis-lock-${i + 1}`), `redis-lock-${i + 1}`);
      started.push(node);
      lockNodes.push(node);
    }
    await runMigrations(mysqlUrl);
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'production',
      MYSQL_URL: mysqlUrl,
      ...(redisSentinel
        ? {
            REDIS_SENTINELS: redisSentinel.urls.join(','),
            REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
            ...(lockNodes.length ? { REDIS_LOCK_NODES: lockNodes.map((node) => node.url).join(',') } : {}),
          }
        : {}),
      ...(redisCluster
        ? {
            REDIS_CLUSTER_NODES: redisCluster.urls.join(','),
            // Without REDIS_LOCK_NODES, MultiLock/RedLock run on the cluster as one node.
            ...(lockNodes.length ? { REDIS_LOCK_NODES: lockNodes.map((node) => node.url).join(',') } : {}),
          }
        : redisSentinel
          ? {}
          : {
              REDIS_URL: redis.url,
              REDIS_LOCK_NODES: (lockNodes.length ? lockNodes : [redis]).map((node) => node.url).join(','),
            }),
      AUTH_JWT_SECRET: DEV_JWT_SECRET,
      AUTH_DEV_TOKENS: 'true',
      LOG_LEVEL: 'warn',
      // A Cluster's or the Sentinels' automatic failover can promote a replica that missed the last
      // writes: async mode refuses ORDER_DURABILITY=aof there (see RedisDurabilityCheck).
      ...(redisCluster || redisSentinel ? { ORDER_DURABILITY: 'replicas', ORDER_DURABILITY_REPLICAS: '1' } : {}),
      ...options.env,
    };
    const replicas: AppReplica[] = await Promise.all(
      Array.from({ length: options.replicas ?? 0 }, (_, i) => AppReplica.start(join(root, 'app'), `app-${i + 1}`, env)),
    );
    started.push(...replicas);
    let nginx: NginxServer | undefined;
    if (replicas.length > 0) {
      nginx = await NginxServer.start(
        join(root, 'nginx'),
        replicas.map((replica) => replica.port),
        options.nginxPort,
      );
      started.push(nginx);
    }
    return {
      root,
      mariadb,
      mysqlUrl,
      redis,
      redisCluster,
      redisSentinel,
      lockNodes,
      replicas,
      nginx,
      env,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
