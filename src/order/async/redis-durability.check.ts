import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { appConfig, type AppConfig } from '../../config/app-config';
import { REDIS_CLIENT } from '../../redis/redis.tokens';

/** Start-up refused: an accepted order could be lost with this Redis. */
export class DurabilityNotGuaranteedError extends Error {
  override readonly name = DurabilityNotGuaranteedError.name;
}

/**
 * In async mode an accepted order lives only in Redis until a consumer commits it, so the app
 * refuses to start unless Redis keeps it through a crash:
 * - ORDER_DURABILITY=aof: `appendonly yes` and `appendfsync always` (every write on disk before
 *   the reply), and `maxmemory-policy noeviction` (an order is never evicted);
 * - ORDER_DURABILITY=replicas: at least ORDER_DURABILITY_REPLICAS connected replicas (each
 *   admission then WAITs for them) and `noeviction`;
 * - ORDER_DURABILITY=none: development only; a Redis crash loses accepted orders.
 */
/** How often a running replica checks again (a Redis restarted with other settings). */
const RECHECK_MS = 10_000;

@Injectable()
export class RedisDurabilityCheck implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(RedisDurabilityCheck.name);
  private timer?: NodeJS.Timeout;
  /** False while the last re-check found Redis would lose accepted orders: admission answers 503. */
  private durable = true;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.ORDER_MODE !== 'async') {
      return;
    }
    if (this.config.ORDER_DURABILITY === 'none') {
      this.logger.warn(
        'ORDER_DURABILITY=none: accepted orders are lost if Redis crashes before they are persisted (development only)',
      );
      return;
    }
    const problems = await this.problems();
    if (problems.length === 0) {
      this.timer = setInterval(() => void this.recheck(), RECHECK_MS);
      this.timer.unref();
    }
    if (problems.length > 0) {
      throw new DurabilityNotGuaranteedError(
        `ORDER_MODE=async refuses to start: Redis at REDIS_URL would not keep accepted orders through a crash:\n` +
          problems.map((problem) => `  - ${problem}`).join('\n') +
          '\nFix the Redis configuration, or set ORDER_DURABILITY=none for development only (loses accepted orders on a Redis crash).',
      );
    }
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Whether admission may answer 202 (always true unless a re-check found the settings changed). */
  get ok(): boolean {
    return this.durable;
  }

  private async recheck(): Promise<void> {
    let problems: string[];
    try {
      problems = await this.problems();
    } catch {
      return; // Redis unreachable: admissions fail on their own
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

  private async problems(): Promise<string[]> {
    let settings: Record<string, string>;
    try {
      settings = await this.settings(['appendonly', 'appendfsync', 'maxmemory-policy']);
    } catch (error) {
      return [`its settings cannot be read with CONFIG GET (${String(error)})`];
    }
    const problems: string[] = [];
    if (settings['maxmemory-policy'] !== 'noeviction') {
      problems.push(`maxmemory-policy is ${settings['maxmemory-policy']}, must be noeviction`);
    }
    if (this.config.ORDER_DURABILITY === 'aof') {
      if (settings.appendonly !== 'yes') {
        problems.push(`appendonly is ${settings.appendonly}, must be yes (ORDER_DURABILITY=aof)`);
      }
      if (settings.appendfsync !== 'always') {
        problems.push(`appendfsync is ${settings.appendfsync}, must be always (ORDER_DURABILITY=aof)`);
      }
    } else {
      const replicas = await this.connectedReplicas();
      if (replicas < this.config.ORDER_DURABILITY_REPLICAS) {
        problems.push(
          `${replicas} replicas are connected, ORDER_DURABILITY_REPLICAS=${this.config.ORDER_DURABILITY_REPLICAS} required`,
        );
      }
    }
    return problems;
  }

  private async settings(names: string[]): Promise<Record<string, string>> {
    const flat = (await this.redis.config('GET', ...names)) as string[];
    const settings: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      settings[flat[i]] = flat[i + 1];
    }
    return settings;
  }

  private async connectedReplicas(): Promise<number> {
    const info = await this.redis.info('replication');
    return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
  }
}
