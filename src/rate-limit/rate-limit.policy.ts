import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app-config';
import { rateBucketKeys } from '../voucher/seckill-keys';
import { ClientAddress } from './client-address';
import type { SaleRequest } from '../voucher/sale-request';

/** What an admission script needs to check a request's limits: its two bucket keys and the rates. */
export interface RateLimitArgs {
  keys: [userBucket: string, addressBucket: string];
  /** userRate, userBurst, addressRate, addressBurst (a rate of 0: that limit is off). */
  args: [number, number, number, number];
}

/**
 * The order endpoint's rate limits (RATE_LIMIT_*): per user and per client address, as token buckets
 * in Redis that the admission scripts check in the same call as the admission itself — no extra
 * round trip. The buckets belong to the sale (its hash slot): a scalper is limited on the sale he
 * hammers, the same whichever replica answers.
 */
@Injectable()
export class RateLimitPolicy {
  readonly clientAddress: ClientAddress;
  readonly enabled: boolean;
  /** userRate, userBurst, addressRate, addressBurst as the scripts take them. */
  readonly rates: RateLimitArgs['args'];

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.clientAddress = new ClientAddress(config.TRUSTED_PROXIES);
    this.rates = [
      config.RATE_LIMIT_USER_PER_SECOND,
      config.RATE_LIMIT_USER_BURST,
      config.RATE_LIMIT_IP_PER_SECOND,
      config.RATE_LIMIT_IP_BURST,
    ];
    this.enabled = config.RATE_LIMIT_USER_PER_SECOND > 0 || config.RATE_LIMIT_IP_PER_SECOND > 0;
  }

  /** The request's buckets, or undefined when no limit is on (the scripts then skip them). */
  forRequest(request: SaleRequest): RateLimitArgs | undefined {
    if (!this.enabled) {
      return undefined;
    }
    return {
      keys: rateBucketKeys(request.voucherId, request.userId, request.clientAddress ?? 'unknown'),
      args: this.rates,
    };
  }
}
