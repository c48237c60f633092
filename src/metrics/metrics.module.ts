import { Global, Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { HttpMetrics } from './http-metrics';
import { MetricsServer } from './metrics.server';
import { MetricsService } from './metrics.service';

/** Metrics are served on METRICS_PORT by `MetricsServer`, never on the public port. */
@Global()
@Module({
  imports: [HealthModule],
  providers: [MetricsService, HttpMetrics, MetricsServer],
  exports: [MetricsService, HttpMetrics, MetricsServer],
})
export class MetricsModule {}
