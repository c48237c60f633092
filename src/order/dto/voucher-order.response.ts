import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { VoucherOrder } from '../voucher-order.entity';

export class VoucherOrderResponse {
  @ApiProperty({ description: 'Decimal string' }) id: string;
  @ApiProperty() userId: string;
  @ApiProperty() voucherId: string;
  @ApiProperty({
    enum: ['PENDING', 'CREATED', 'FAILED'],
    description: 'PENDING: accepted (async mode), not yet in MySQL; CREATED: in MySQL; FAILED: dead-lettered, not sold',
  })
  state: 'PENDING' | 'CREATED' | 'FAILED';
  @ApiProperty({
    description:
      'CREATED: the seed status 1 unpaid, 2 paid, 3 used, 4 cancelled, 5 refunding, 6 refunded; otherwise the state',
    oneOf: [{ type: 'integer' }, { type: 'string', enum: ['PENDING', 'FAILED'] }],
  })
  status: number | 'PENDING' | 'FAILED';
  @ApiPropertyOptional({ description: 'CREATED only' }) payType?: number;
  @ApiPropertyOptional({ description: 'CREATED only' }) createTime?: string;
  @ApiPropertyOptional({
    description: 'CREATED only: an unpaid order not paid by then is cancelled (cancelReason EXPIRED)',
    nullable: true,
  })
  payDeadline?: string | null;
  @ApiPropertyOptional({ description: 'CREATED only', nullable: true }) payTime?: string | null;
  @ApiPropertyOptional({ description: 'CREATED only', nullable: true }) useTime?: string | null;
  @ApiPropertyOptional({ description: 'CREATED only', nullable: true }) refundTime?: string | null;
  @ApiPropertyOptional({
    description: 'CREATED, status 4 only: USER (the buyer cancelled) or EXPIRED (not paid by payDeadline)',
    enum: ['USER', 'EXPIRED'],
    nullable: true,
  })
  cancelReason?: 'USER' | 'EXPIRED' | null;
  @ApiPropertyOptional({ description: 'CREATED, status 4 only', nullable: true }) cancelTime?: string | null;
  @ApiPropertyOptional({ description: 'FAILED only: why it could not be persisted' }) reason?: string;
}

/** An order in MySQL as the API shows it. */
export function toOrderResponse(order: VoucherOrder): VoucherOrderResponse {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    id: order.id,
    userId: order.userId,
    voucherId: order.voucherId,
    state: 'CREATED',
    status: order.status,
    payType: order.payType,
    createTime: order.createTime.toISOString(),
    payDeadline: iso(order.payDeadline),
    payTime: iso(order.payTime),
    useTime: iso(order.useTime),
    refundTime: iso(order.refundTime),
    cancelReason: order.cancelReason,
    cancelTime: iso(order.cancelTime),
  };
}

/** `GET /voucher-order`: one page of the caller's orders, newest first. */
export class OrderPage {
  @ApiProperty({ type: [VoucherOrderResponse] }) items: VoucherOrderResponse[];
  @ApiProperty({ nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor: string | null;
}
