import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app-config';
import { ClientAddress } from './client-address';
import { RateLimitedError } from './rate-limit.errors';
import { rateLimitKey, RateLimitStore } from './rate-limit.store';

/**
 * Limits order requests per user and per client address across all replicas (the buckets live in
 * Redis): a scalper's thousand requests at once get `burst` through, then `ratePerSecond`, whichever
 * replica answers. Both buckets are asked in the same turn (one pipelined round trip).
 */
@Injectable()
export class OrderRateLimiter {
  readonly clientAddress: ClientAddress;
  private readonly user: { ratePerSecond: number; burst: number } | null;
  private readonly ip: { ratePerSecond: number; burst: number } | null;

  constructor(
    @Inject(appConfig.KEY) config: AppConfig,
    private readonly store: RateLimitStore,
  ) {
    this.clientAddress = new ClientAddress(config.TRUSTED_PROXIES);
    this.user =
      config.RATE_LIMIT_USER_PER_SECOND > 0
        ? { ratePerSecond: config.RATE_LIMIT_USER_PER_SECOND, burst: config.RATE_LIMIT_USER_BURST }
        : null;
    this.ip =
      config.RATE_LIMIT_IP_PER_SECOND > 0
        ? { ratePerSecond: config.RATE_LIMIT_IP_PER_SECOND, burst: config.RATE_LIMIT_IP_BURST }
        : null;
  }

  get enabled(): boolean {
    return this.user !== null || this.ip !== null;
  }

  /** Resolves if the request may go on; rejects with 429 RATE_LIMITED (and when to retry) if not. */
  async check(request: { userId: string; clientAddress: string }): Promise<void> {
    const [byUser, byIp] = await Promise.all([
      this.user && this.store.take({ key: rateLimitKey('user', request.userId), ...this.user }),
      this.ip && this.store.take({ key: rateLimitKey('ip', request.clientAddress), ...this.ip }),
    ]);
    const refused = [byUser, byIp].filter((result) => result && !result.allowed);
    if (refused.length > 0) {
      const retryAfterMs = Math.max(...refused.map((result) => result!.retryAfterMs));
      throw new RateLimitedError('Too many order requests; slow down', Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
  }
}
