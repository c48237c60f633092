import { Controller, Get } from '@nestjs/common';
import { ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { RedisHealthIndicator } from '../redis/redis.health';
import { ShutdownState } from './shutdown-state';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  /** The process is up (no dependency checks: a DB outage must not get replicas restarted). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready for traffic: MySQL and Redis answer, and the process is not draining. */
  @Get('ready')
  @HealthCheck()
  @ApiServiceUnavailableResponse({ description: 'Not ready: MySQL or Redis down, or draining (terminus body)' })
  ready() {
    return this.health.check([
      () => this.shutdown.check(),
      () => this.db.pingCheck('mysql', { timeout: 1000 }),
      () => this.redis.pingCheck('redis'),
    ]);
  }
}
