import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../../config/app-config';
import { TurnBatcher } from '../../common/turn-batcher';
import { RateLimitPolicy } from '../../rate-limit/rate-limit.policy';
import type { SaleRequest } from '../../voucher/sale-request';
import { OrderStreamMetrics } from './order-stream.metrics';
import type { AdmissionOutcome } from '../../voucher/admission';
import { OrderAdmissionStore } from './order-admission.store';

/**
 * The async admission (`seckill-admit.lua`) for the requests of one voucher that arrive in the same
 * event-loop turn, in one script call (up to ORDER_ADMISSION_BATCH_MAX; see `TurnBatcher`). Requests
 * are decided in arrival order, each with its own outcome; if the call fails, every request in it
 * fails with that error.
 */
@Injectable()
export class AdmissionBatcher {
  private readonly batcher: TurnBatcher<
    { userId: string; orderId: string; buckets?: readonly [string, string] },
    AdmissionOutcome
  >;

  constructor(
    @Inject(appConfig.KEY) config: AppConfig,
    store: OrderAdmissionStore,
    metrics: OrderStreamMetrics,
    private readonly rateLimits: RateLimitPolicy,
  ) {
    this.batcher = new TurnBatcher({
      maxBatch: config.ORDER_ADMISSION_BATCH_MAX,
      send: async (voucherId, requests) => {
        metrics.admissionBatchSize.observe(requests.length);
        const { admissions, endMs } = await store.admitBatch({
          voucherId,
          maxBacklog: config.ORDER_MAX_BACKLOG,
          requests,
          rates: rateLimits.enabled ? rateLimits.rates : undefined,
        });
        return admissions.map((admission) => ({ ...admission, endMs }));
      },
    });
  }

  admit(options: SaleRequest & { orderId: string }): Promise<AdmissionOutcome> {
    return this.batcher.add(options.voucherId, {
      userId: options.userId,
      orderId: options.orderId,
      buckets: this.rateLimits.forRequest(options)?.keys,
    });
  }
}
