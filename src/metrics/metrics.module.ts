import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsService } from './metrics.service';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, HttpMetrics],
  exports: [MetricsService, HttpMetrics],
})
export class MetricsModule {}
