import { Module } from '@nestjs/common';
import { OrderRateLimiter } from './order-rate-limiter';
import { RateLimitStore } from './rate-limit.store';

@Module({
  providers: [RateLimitStore, OrderRateLimiter],
  exports: [OrderRateLimiter],
})
export class RateLimitModule {}
