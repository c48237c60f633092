import { Controller, Delete, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { appConfig, AppConfig } from '../config/app-config';
import { LockService } from '../lock/lock.service';

@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly locks: LockService,
  ) {}

  /** Which replica answered and how it is configured (no secrets). */
  @Get('info')
  info() {
    return {
      instanceId: this.config.INSTANCE_ID,
      lockMode: this.config.LOCK_MODE,
      orderMode: this.config.ORDER_MODE,
      lockNodes: this.config.REDIS_LOCK_NODES.length,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }

  /** Deletes a stuck lock whoever holds it; waiters are woken. `{released: false}` if it was free. */
  @Delete('locks/:name')
  async forceUnlock(@Param('name') name: string) {
    return { released: await this.locks.getLock(name).forceUnlock() };
  }
}
