import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { AppRedis } from './redis-connections';
import { REDIS_CLIENT } from './redis.tokens';

/** Readiness: the command connection answers PING. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
    private readonly health: HealthIndicatorService,
  ) {}

  async pingCheck(key = 'redis') {
    const indicator = this.health.check(key);
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('Redis PING timed out')), 1000).unref()),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
