import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisScript } from '../../src/redis/redis-script';

/** Compare-and-delete: only the owner's value is deleted. */
export const simpleReleaseScript = RedisScript.fromFile(__dirname, 'simple-release.lua', 1);

/**
 * The seed's v3 lock, kept as the minimal reference (and the benchmark baseline; not part of the
 * lock library): `SET key owner NX PX lease` to acquire, compare-and-delete in Lua to release.
 * Not reentrant, no waiting, no renewal, no fencing.
 */
export class SimpleLock {
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly leaseMs = 30_000,
  ) {}

  /** One attempt; true if acquired. */
  async tryLock(): Promise<boolean> {
    return (await this.redis.set(this.key, this.owner, 'PX', this.leaseMs, 'NX')) === 'OK';
  }

  /** True if this owner's lock was deleted; false if it expired or belongs to someone else. */
  async unlock(): Promise<boolean> {
    return (await simpleReleaseScript.run<number>(this.redis, [this.key], [this.owner])) === 1;
  }
}
