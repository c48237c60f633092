import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { ShutdownState } from './shutdown-state';

/**
 * Whether this replica should get traffic: MySQL and Redis answer and it is not draining. The public
 * probe only says yes or no; which dependency failed is internal detail, served on METRICS_PORT.
 */
@Injectable()
export class ReadinessCheck {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Terminus' result with every indicator (`status` is `ok` or `error`); never throws for a down dependency. */
  async details(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.shutdown.check(),
        () => this.db.pingCheck('mysql', { timeout: 1000 }),
        () => this.redis.pingCheck('redis'),
      ]);
    } catch (error) {
      // Terminus reports "not ready" by throwing a 503 that carries the result.
      if (error instanceof ServiceUnavailableException) {
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }

  async isReady(): Promise<boolean> {
    return (await this.details()).status === 'ok';
  }
}
