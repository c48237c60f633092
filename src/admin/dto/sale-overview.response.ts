import { ApiProperty } from '@nestjs/swagger';
import { SaleOrders } from '../../order/dto/sale-orders.response';
import { SaleStatus } from '../../voucher/dto/sale-status.response';

/** `GET /admin/sales/:voucherId`: one sale as every part of the system sees it. */
export class SaleOverviewResponse extends SaleStatus {
  @ApiProperty({ enum: ['sync', 'async'] }) orderMode: string;
  @ApiProperty({ type: SaleOrders }) orders: SaleOrders;
}
