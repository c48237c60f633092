import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { appConfig, AppConfig } from '../config/app-config';

@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin')
export class AdminController {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

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
}
