import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { appConfig, type AppConfig } from '../../config/app-config';
import { pairsToRecord } from '../../redis/redis-replies';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { connectAppRedis, mastersOf, untilReady, type AppRedis, type RedisTarget } from '../../redis/redis-connections';

/** How often a running replica checks again (a Redis restarted with other settings). */
const RECHECK_MS = 10_000;
/** While a re-check finds Redis not durable (e.g. a failover left the new master without replicas yet), admission waits for the next one: ask more often. */
const RECHECK_FAILING_MS = 1000;

/** Start-up refused: an accepted order could be lost with this Redis. */
export class DurabilityNotGuaranteedError extends Error {
  override readonly name = DurabilityNotGuaranteedError.name;
}

/**
 * In async mode an accepted order lives only in Redis until a consumer commits it, so the app
 * refuses to start (`assertRedisDurable`, called by `createApp`) unless Redis keeps it through a
 * crash, and a running replica re-checks every 10 s, every second while it fails (admission pauses meanwhile):
 * - ORDER_DURABILITY=aof: `appendonly yes` and `appendfsync always` (every write on disk before
 *   the reply), and `maxmemory-policy noeviction` (an order is never evicted); and no replica an
 *   automatic failover (a Cluster's, Sentinels') could promote;
 * - ORDER_DURABILITY=replicas: at least ORDER_DURABILITY_REPLICAS connected replicas (each
 *   admission then WAITs for them) and `noeviction`;
 * - ORDER_DURABILITY=none: development only; a Redis crash loses accepted orders.
 */
@Injectable()
export class RedisDurabilityCheck implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(RedisDurabilityCheck.name);
  private timer?: NodeJS.Timeout;
  /** False while the last re-check found Redis would lose accepted orders: admission answers 503. */
  private durable = true;
  private stopped = false;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
  ) {}

  /** Start-up was refused already by `assertRedisDurable` if Redis is not durable; from here on, re-checks. */
  onModuleInit(): void {
    if (this.config.ORDER_MODE !== 'async') {
      return;
    }
    if (this.config.ORDER_DURABILITY === 'none') {
      this.logger.warn(
        'ORDER_DURABILITY=none: accepted orders are lost if Redis crashes before they are persisted (development only)',
      );
      return;
    }
    this.schedule();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Whether admission may answer 202 (always true unless a re-check found the settings changed). */
  get ok(): boolean {
    return this.durable;
  }

  private schedule(): void {
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(
      () => void this.recheck().finally(() => this.schedule()),
      this.durable ? RECHECK_MS : RECHECK_FAILING_MS,
    );
    this.timer.unref();
  }

  private async recheck(): Promise<void> {
    let problems: string[];
    try {
      problems = await durabilityProblems(this.redis, this.config);
    } catch {
      return; // Redis unreachable: admissions fail on their own; the last verdict stands
    }
    if (problems.length > 0 && this.durable) {
      this.logger.error(
        `Redis no longer keeps accepted orders through a crash; admission paused: ${problems.join('; ')}`,
      );
    } else if (problems.length === 0 && !this.durable) {
      this.logger.warn('Redis is durable again; admission resumed');
    }
    this.durable = problems.length === 0;
  }
}

/**
 * What keeps this Redis from holding accepted orders through a crash (empty: nothing). On a Cluster
 * every master is asked (each holds the sales of its slots), and each problem names its master.
 */
export async function durabilityProblems(
  redis: AppRedis,
  config: DurabilityConfig & { REDIS_SENTINELS?: string[] },
): Promise<string[]> {
  if (!redis.isCluster) {
    // Behind Sentinels an automatic failover can promote a replica, as on a Cluster.
    const failover = config.REDIS_SENTINELS?.length ? 'a Sentinel failover' : undefined;
    return serverProblems(redis as Redis, config, failover);
  }
  const masters = mastersOf(redis);
  if (masters.length === 0) {
    throw new Error('the cluster reports no master');
  }
  const perMaster = await Promise.all(
    masters.map(async (master) =>
      (await serverProblems(master, config, "the Cluster's automatic failover")).map(
        (problem) => `${master.options.host}:${master.options.port}: ${problem}`,
      ),
    ),
  );
  return perMaster.flat();
}

type DurabilityConfig = Pick<AppConfig, 'ORDER_DURABILITY' | 'ORDER_DURABILITY_REPLICAS'>;

/**
 * One server's problems. `failover` names what can promote one of its replicas automatically: then
 * `aof` is not enough — it keeps a 202 through a restart of this server, not through a promotion of
 * a replica that never received it — so replicas attached to it ask for ORDER_DURABILITY=replicas.
 */
async function serverProblems(redis: Redis, config: DurabilityConfig, failover?: string): Promise<string[]> {
  // Throws if Redis cannot be asked (unreachable, CONFIG refused): the caller decides what that means.
  const settings = await readSettings(redis, ['appendonly', 'appendfsync', 'maxmemory-policy']);
  const problems: string[] = [];
  if (settings['maxmemory-policy'] !== 'noeviction') {
    problems.push(`maxmemory-policy is ${settings['maxmemory-policy']}, must be noeviction`);
  }
  if (config.ORDER_DURABILITY === 'aof') {
    if (settings.appendonly !== 'yes') {
      problems.push(`appendonly is ${settings.appendonly}, must be yes (ORDER_DURABILITY=aof)`);
    }
    if (settings.appendfsync !== 'always') {
      problems.push(`appendfsync is ${settings.appendfsync}, must be always (ORDER_DURABILITY=aof)`);
    }
    const replicas = failover ? connectedReplicas(await redis.info('replication')) : 0;
    if (replicas > 0) {
      problems.push(
        `${replicas} replicas are attached, which ${failover} can promote without the last accepted orders ` +
          '(ORDER_DURABILITY=aof keeps them only through a restart of the same server): set ORDER_DURABILITY=replicas',
      );
    }
  } else {
    const replicas = connectedReplicas(await redis.info('replication'));
    if (replicas < config.ORDER_DURABILITY_REPLICAS) {
      problems.push(
        `${replicas} replicas are connected, ORDER_DURABILITY_REPLICAS=${config.ORDER_DURABILITY_REPLICAS} required`,
      );
    }
  }
  return problems;
}

/**
 * Start-up check, before anything else starts (so a refused start leaves nothing running): in async
 * mode, throws `DurabilityNotGuaranteedError` naming every setting to fix.
 */
export async function assertRedisDurable(
  config: Pick<AppConfig, 'ORDER_MODE' | 'ORDER_DURABILITY' | 'ORDER_DURABILITY_REPLICAS'> & RedisTarget,
): Promise<void> {
  if (config.ORDER_MODE !== 'async' || config.ORDER_DURABILITY === 'none') {
    return;
  }
  const oneServer = config.REDIS_CLUSTER_NODES.length === 0 && !config.REDIS_SENTINELS?.length;
  const redis: AppRedis = oneServer
    ? new Redis(config.REDIS_URL, { connectTimeout: 2000, maxRetriesPerRequest: 1, lazyConnect: true })
    : connectAppRedis(config, 'durability-check', { commandTimeoutMs: 2000 });
  redis.on('error', () => undefined);
  let problems: string[];
  try {
    await (oneServer ? (redis as Redis).connect() : untilReady(redis, 5000));
    problems = await durabilityProblems(redis, config);
  } catch (error) {
    problems = [`its settings cannot be read (unreachable, or CONFIG GET refused): ${String(error)}`];
  } finally {
    redis.disconnect();
  }
  if (problems.length > 0) {
    throw new DurabilityNotGuaranteedError(
      `ORDER_MODE=async refuses to start: Redis at ${redisSetting(config)} would not keep accepted orders through a crash:\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        '\nFix the Redis configuration, or set ORDER_DURABILITY=none for development only (loses accepted orders on a Redis crash).',
    );
  }
}

function connectedReplicas(replicationInfo: string): number {
  return Number(/connected_slaves:(\d+)/.exec(replicationInfo)?.[1] ?? 0);
}

async function readSettings(redis: Redis, names: string[]): Promise<Record<string, string>> {
  return pairsToRecord((await redis.config('GET', ...names)) as string[]);
}

/** The setting that says where the app's Redis is. */
function redisSetting(config: RedisTarget): string {
  if (config.REDIS_CLUSTER_NODES.length > 0) {
    return 'REDIS_CLUSTER_NODES';
  }
  return config.REDIS_SENTINELS?.length ? 'REDIS_SENTINELS' : 'REDIS_URL';
}
