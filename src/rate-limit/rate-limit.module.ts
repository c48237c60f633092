import { Module } from '@nestjs/common';
import { RateLimitPolicy } from './rate-limit.policy';

@Module({
  providers: [RateLimitPolicy],
  exports: [RateLimitPolicy],
})
export class RateLimitModule {}
