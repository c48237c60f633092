import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../auth/auth.decorators';
import { ApiErrors } from '../../common/errors/api-errors.decorator';
import { ParseIdPipe } from '../../common/parse-id.pipe';
import { VoucherOrderResponse } from '../dto/voucher-order.response';
import { OrderLifecycleService } from './order-lifecycle.service';

/** The shop's side of an order: refunds. */
@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('admin/orders')
export class AdminOrderController {
  constructor(private readonly lifecycle: OrderLifecycleService) {}

  @Post(':id/refund')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Refund a paid or used order (admin)',
    description: 'The unit goes back to the sale only with ORDER_REFUND_RETURNS_STOCK=true and while the sale runs.',
  })
  @ApiOkResponse({ type: VoucherOrderResponse })
  @ApiErrors(
    'INVALID_ID',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'ORDER_NOT_FOUND',
    'ORDER_NOT_REFUNDABLE',
    'ORDER_PENDING',
    'DATABASE_UNAVAILABLE',
    'REDIS_UNAVAILABLE',
  )
  refund(@Param('id', ParseIdPipe) id: string): Promise<VoucherOrderResponse> {
    return this.lifecycle.refund(id);
  }
}
