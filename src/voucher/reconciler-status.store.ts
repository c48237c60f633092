import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../redis/redis-connections';
import { redisNowMs } from '../redis/redis-clock';
import { REDIS_CLIENT } from '../redis/redis.tokens';

/** Cluster-wide record of the last reconciliation round (whichever replica ran it). */
const STATUS_KEY = 'voucher:reconcile:status';

export interface ReconcilerStatus {
  /** When the last round finished (Redis clock), or null if none ran since Redis started empty. */
  lastRoundAt: string | null;
  instanceId: string | null;
  repaired: number;
  error: string | null;
}

/** The reconciler's status hash in Redis; only this class touches it. */
@Injectable()
export class ReconcilerStatusStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

  async record(round: { instanceId: string; repaired: number; error?: string }): Promise<void> {
    const atMs = await redisNowMs(this.redis);
    await this.redis.hset(STATUS_KEY, {
      at: String(atMs),
      instanceId: round.instanceId,
      repaired: String(round.repaired),
      error: round.error ?? '',
    });
  }

  async read(): Promise<ReconcilerStatus> {
    const status = await this.redis.hgetall(STATUS_KEY);
    return {
      lastRoundAt: status.at ? new Date(Number(status.at)).toISOString() : null,
      instanceId: status.instanceId ?? null,
      repaired: Number(status.repaired ?? 0),
      error: status.error ? status.error : null,
    };
  }
}
