import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app-config';
import { Histogram } from 'prom-client';
import { TurnBatcher } from '../common/turn-batcher';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitPolicy } from '../rate-limit/rate-limit.policy';
import type { SaleRequest } from './sale-request';
import type { AdmissionOutcome } from './admission';
import { SeckillStateStore } from './seckill-state.store';

/**
 * The synchronous sale's admission (`seckill-reserve.lua`) for the requests of one voucher that
 * arrive in the same event-loop turn, in one script call (up to ORDER_ADMISSION_BATCH_MAX): the
 * async path's admission batching, for the reservation in front of the locked transaction.
 */
@Injectable()
export class ReserveBatcher {
  private readonly batcher: TurnBatcher<{ userId: string; buckets?: readonly [string, string] }, AdmissionOutcome>;
  private readonly batchSize: Histogram;

  constructor(
    @Inject(appConfig.KEY) config: AppConfig,
    private readonly stateStore: SeckillStateStore,
    private readonly rateLimits: RateLimitPolicy,
    metrics: MetricsService,
  ) {
    this.batchSize = new Histogram({
      name: 'seckill_sync_reserve_batch_size',
      help: 'Requests decided by one seckill-reserve.lua call (those that arrived in one event-loop turn)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [metrics.registry],
    });
    this.batcher = new TurnBatcher({
      maxBatch: config.ORDER_ADMISSION_BATCH_MAX,
      send: async (voucherId, requests) => {
        this.batchSize.observe(requests.length);
        const { admissions, endMs } = await this.stateStore.reserveBatch({
          voucherId,
          requests,
          rates: this.rateLimits.enabled ? this.rateLimits.rates : undefined,
        });
        return admissions.map((admission) => ({ ...admission, endMs }));
      },
    });
  }

  /** Checks the request's rate limits, the window, stock and buyer; on success one unit is reserved. */
  reserve(request: SaleRequest): Promise<AdmissionOutcome> {
    return this.batcher.add(request.voucherId, {
      userId: request.userId,
      buckets: this.rateLimits.forRequest(request)?.keys,
    });
  }
}
