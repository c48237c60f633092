import { Inject, Injectable } from '@nestjs/common';
import type { LockScriptClient } from '@seckill/lock/lua';
import type { AppRedis } from '../../redis/redis-connections';
import { RedisScript, writtenAtOnce } from '../../redis/redis-script';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { ADMISSION_BATCH_LUA } from '../../voucher/admission-batch.lua';
import { ADMIT_ADMISSIONS, type Admission, type AdmissionOutcome } from '../../voucher/admission';
import { KEEP_AFTER_END_MS } from '../../voucher/seckill-keys';
import { orderStreamKeys } from './order-stream.keys';
import { SECKILL_ADMIT_LUA } from './seckill-admit.lua';

// 4 keys of the sale, then two rate-limit buckets per request (ORDER_ADMISSION_BATCH_MAX ≤ 1,000).
const admitScript = RedisScript.withPrelude(ADMISSION_BATCH_LUA, {
  name: 'seckill-admit.lua',
  source: SECKILL_ADMIT_LUA,
  keys: [4, 2004],
});
/** The admission script's rate arguments when no limit applies. */
const NO_LIMITS = [0, 1, 0, 1] as const;

/**
 * The async admission in Redis (`seckill-admit.lua`, its one caller): window by Redis TIME, stock,
 * one order per user, backlog and rate buckets decided, and an accepted order appended to the
 * voucher's stream and its `pending` hash, in one atomic call. Used by `AdmissionBatcher`.
 */
@Injectable()
export class OrderAdmissionStore {
  /** The admission script's KEYS per voucher, built once (the sale path runs thousands of times a second). */
  private readonly admitKeys = new Map<string, string[]>();

  /** The connection's EVALSHA for the admission script, written at once (see `admitBatch`). */
  private readonly admitClient: LockScriptClient;

  constructor(@Inject(REDIS_CLIENT) redis: AppRedis) {
    this.admitClient = writtenAtOnce(redis);
  }

  /** Admission of one request (window by Redis TIME, stock, buyer, backlog) and, if accepted, the XADD. */
  async admit(options: {
    voucherId: string;
    userId: string;
    orderId: string;
    maxBacklog: number;
  }): Promise<{ admission: Admission; endMs: number }> {
    const { admissions, endMs } = await this.admitBatch({
      voucherId: options.voucherId,
      maxBacklog: options.maxBacklog,
      requests: [{ userId: options.userId, orderId: options.orderId }],
    });
    return { admission: admissions[0].admission, endMs };
  }

  /**
   * Admission of several requests for one voucher in one round trip, decided in the given order
   * (as if one after another): one outcome per request. With `rates`, every request carries its
   * rate-limit buckets and is checked against them first (`rate-limited`, with when to retry).
   */
  admitBatch(options: {
    voucherId: string;
    maxBacklog: number;
    requests: readonly { userId: string; orderId: string; buckets?: readonly [string, string] }[];
    /** userRate, userBurst, addressRate, addressBurst (see RateLimitPolicy). */
    rates?: readonly [number, number, number, number];
  }): Promise<{ admissions: Omit<AdmissionOutcome, 'endMs'>[]; endMs: number }> {
    let saleKeys = this.admitKeys.get(options.voucherId);
    if (!saleKeys) {
      if (this.admitKeys.size >= 10_000) {
        this.admitKeys.clear();
      }
      const all = orderStreamKeys(options.voucherId);
      saleKeys = [all.state, all.buyers, all.orders, all.pending];
      this.admitKeys.set(options.voucherId, saleKeys);
    }
    const keys = [...saleKeys];
    const args: (string | number)[] = [
      options.maxBacklog,
      KEEP_AFTER_END_MS,
      options.voucherId,
      ...(options.rates ?? NO_LIMITS),
    ];
    for (const request of options.requests) {
      args.push(request.userId, request.orderId);
      if (options.rates) {
        keys.push(...request.buckets!);
      }
    }
    // Batched by the caller already (AdmissionBatcher: one call per voucher and event-loop turn, or a
    // full batch at once), so written at once: the auto-pipeline would only add a pipeline and a turn.
    // With ORDER_ADMISSION_BATCH_MAX=1 that is one socket write per request.
    return admitScript.call(this.admitClient, keys, args, ([endMs, ...outcomes]: number[]) => {
      const admissions: Omit<AdmissionOutcome, 'endMs'>[] = [];
      for (let i = 0; i < outcomes.length; i += 2) {
        admissions.push({ admission: ADMIT_ADMISSIONS[outcomes[i]], retryAfterMs: outcomes[i + 1] });
      }
      return { admissions, endMs: Number(endMs) };
    });
  }
}
