import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/auth.decorators';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { VoucherOrderResponse } from './dto/voucher-order.response';
import { OrderLookupService } from './order-lookup.service';
import { ApiErrors } from '../common/errors/api-errors.decorator';

/** `POST /voucher-order/seckill/:id` is served by `SeckillRoute` (a native Fastify route). */
@ApiTags('voucher-order')
@ApiBearerAuth()
@Controller('voucher-order')
export class OrderController {
  constructor(private readonly orders: OrderLookupService) {}

  @Get(':id')
  @ApiOperation({ summary: 'An order of the caller (admins: any order)' })
  @ApiErrors('INVALID_ID', 'UNAUTHORIZED', 'ORDER_NOT_FOUND', 'DATABASE_UNAVAILABLE', 'REDIS_UNAVAILABLE')
  findOne(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<VoucherOrderResponse> {
    return this.orders.findForUser(id, user);
  }
}
