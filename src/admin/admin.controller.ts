import { Controller, Delete, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { appConfig, AppConfig } from '../config/app-config';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { LockService } from '@seckill/lock';
import { OrderService } from '../order/order.service';
import { VoucherService } from '../voucher/voucher.service';
import { SaleOverviewResponse } from './dto/sale-overview.response';
import { ApiErrors } from '../common/errors/api-errors.decorator';

@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly locks: LockService,
    private readonly vouchers: VoucherService,
    private readonly orders: OrderService,
  ) {}

  /** One sale as MySQL, Redis, the streams (async) and the reconciler see it. */
  @Get('sales/:voucherId')
  @ApiOperation({ summary: 'One sale as MySQL, Redis, the order streams and the reconciler see it (admin)' })
  @ApiOkResponse({ type: SaleOverviewResponse })
  @ApiErrors(
    'INVALID_ID',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'VOUCHER_NOT_FOUND',
    'DATABASE_UNAVAILABLE',
    'REDIS_UNAVAILABLE',
  )
  async sale(@Param('voucherId', ParseIdPipe) voucherId: string): Promise<SaleOverviewResponse> {
    const status = await this.vouchers.saleStatus(voucherId);
    return { ...status, orderMode: this.config.ORDER_MODE, orders: await this.orders.saleOrders(voucherId) };
  }

  /** Which replica answered and how it is configured (no secrets). */
  @Get('info')
  @ApiOperation({ summary: 'Which replica answered and how it is configured (admin)' })
  @ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
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
  @ApiOperation({ summary: 'Force-unlock a stuck lock, whoever holds it (admin)' })
  @ApiErrors('INVALID_LOCK_KEY', 'UNAUTHORIZED', 'FORBIDDEN', 'REDIS_UNAVAILABLE')
  async forceUnlock(@Param('name') name: string) {
    return { released: await this.locks.getLock(name).forceUnlock() };
  }
}
