import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser, RequireRole } from '../../auth/auth.decorators';
import { ApiErrors } from '../../common/errors/api-errors.decorator';
import { ParseIdPipe } from '../../common/parse-id.pipe';
import { OrderPage, VoucherOrderResponse } from '../dto/voucher-order.response';
import { ListOrdersQuery } from './dto/list-orders.query';
import { PayOrderRequest } from './dto/pay-order.request';
import { OrderLifecycleService } from './order-lifecycle.service';

const DEFAULT_PAGE = 20;

/** The buyer's side of an order after the sale: list, pay, cancel; and the shop's write-off. */
@ApiTags('voucher-order')
@ApiBearerAuth()
@Controller('voucher-order')
export class OrderLifecycleController {
  constructor(private readonly lifecycle: OrderLifecycleService) {}

  @Get()
  @ApiOperation({ summary: "The caller's orders (in MySQL), newest first, cursor-paginated by id" })
  @ApiOkResponse({ type: OrderPage })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'DATABASE_UNAVAILABLE')
  list(@Query() query: ListOrdersQuery, @CurrentUser() user: AuthUser): Promise<OrderPage> {
    return this.lifecycle.list(user, { ...query, limit: query.limit ?? DEFAULT_PAGE });
  }

  @Post(':id/pay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pay an unpaid order of the caller before its deadline (a simulated payment confirmation)',
    description: 'Paying a paid order again answers 200 with the order unchanged.',
  })
  @ApiOkResponse({ type: VoucherOrderResponse })
  @ApiErrors(
    'INVALID_ID',
    'VALIDATION_FAILED',
    'INVALID_JSON',
    'UNAUTHORIZED',
    'ORDER_NOT_FOUND',
    'ORDER_NOT_PAYABLE',
    'ORDER_PENDING',
    'DATABASE_UNAVAILABLE',
    'REDIS_UNAVAILABLE',
  )
  pay(
    @Param('id', ParseIdPipe) id: string,
    @Body() body: PayOrderRequest,
    @CurrentUser() user: AuthUser,
  ): Promise<VoucherOrderResponse> {
    return this.lifecycle.pay(id, user, body.payType);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an unpaid order of the caller; its unit goes back to the sale' })
  @ApiOkResponse({ type: VoucherOrderResponse })
  @ApiErrors(
    'INVALID_ID',
    'UNAUTHORIZED',
    'ORDER_NOT_FOUND',
    'ORDER_NOT_CANCELLABLE',
    'ORDER_PENDING',
    'DATABASE_UNAVAILABLE',
    'REDIS_UNAVAILABLE',
  )
  cancel(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<VoucherOrderResponse> {
    return this.lifecycle.cancel(id, user);
  }

  @Post(':id/use')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Write a paid coupon off: paid → used (admin)' })
  @ApiOkResponse({ type: VoucherOrderResponse })
  @ApiErrors(
    'INVALID_ID',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'ORDER_NOT_FOUND',
    'ORDER_NOT_USABLE',
    'ORDER_PENDING',
    'DATABASE_UNAVAILABLE',
    'REDIS_UNAVAILABLE',
  )
  use(@Param('id', ParseIdPipe) id: string): Promise<VoucherOrderResponse> {
    return this.lifecycle.use(id);
  }
}
