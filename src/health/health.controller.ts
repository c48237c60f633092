import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ErrorResponse } from '../common/errors/api-errors.decorator';
import { NotReadyError } from './health.errors';
import { ReadinessCheck } from './readiness.check';

const OK_SCHEMA = { type: 'object', properties: { status: { type: 'string', example: 'ok' } } };

/**
 * Public probes for load balancers: up or not, nothing about the dependencies (the world need not
 * know whether MySQL or Redis is down). Details: `GET /health/ready` on METRICS_PORT.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessCheck) {}

  /** The process is up (no dependency checks: a DB outage must not get replicas restarted). */
  @Get('live')
  @ApiOkResponse({ schema: OK_SCHEMA })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready for traffic: MySQL and Redis answer, and the process is not draining. */
  @Get('ready')
  @ApiOkResponse({ schema: OK_SCHEMA })
  @ApiServiceUnavailableResponse({
    description: 'SERVICE_UNAVAILABLE: not ready (MySQL or Redis down, or draining; which one is not said here)',
    type: ErrorResponse,
  })
  async ready(): Promise<{ status: 'ok' }> {
    if (!(await this.readiness.isReady())) {
      throw new NotReadyError('Not ready');
    }
    return { status: 'ok' };
  }
}
