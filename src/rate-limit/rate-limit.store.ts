import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisScript } from '../redis/redis-script';
import { REDIS_CLIENT } from '../redis/redis.tokens';

const tokenBucketScript = RedisScript.fromFile(__dirname, 'token-bucket.lua', 1);

/** A bucket's key: one hash slot per bucket (`ratelimit:{user:42}`), so it runs unchanged on a cluster. */
export const rateLimitKey = (kind: 'user' | 'ip', id: string) => `ratelimit:{${kind}:${id}}`;

/** The token buckets in Redis; only this class touches their keys. */
@Injectable()
export class RateLimitStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  /** Takes one token from the bucket if it has one. One round trip. */
  take(options: {
    key: string;
    ratePerSecond: number;
    burst: number;
  }): Promise<{ allowed: boolean; retryAfterMs: number }> {
    return tokenBucketScript.call(
      this.redis,
      [options.key],
      [options.ratePerSecond, options.burst],
      ([allowed, retryAfterMs]: [number, number]) => ({ allowed: allowed === 1, retryAfterMs }),
    );
  }
}
