import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { HealthController } from './health.controller';
import { ReadinessCheck } from './readiness.check';
import { ShutdownState } from './shutdown-state';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty', gracefulShutdownTimeoutMs: 0 })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ShutdownState, ReadinessCheck],
  exports: [ReadinessCheck],
})
export class HealthModule {}
