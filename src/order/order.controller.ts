import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/auth.decorators';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { SeckillOrderResponse, VoucherOrderResponse } from './dto/voucher-order.response';
import { OrderService } from './order.service';

@ApiTags('voucher-order')
@ApiBearerAuth()
@Controller('voucher-order')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Post('seckill/:id')
  @HttpCode(201)
  @ApiOperation({ summary: 'Order one seckill voucher for the caller (one per user)' })
  async seckill(
    @Param('id', ParseIdPipe) voucherId: string,
    @CurrentUser() user: AuthUser,
  ): Promise<SeckillOrderResponse> {
    return { orderId: await this.orders.seckill(user.id, voucherId) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'An order of the caller (admins: any order)' })
  findOne(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<VoucherOrderResponse> {
    return this.orders.findForUser(id, user);
  }
}
