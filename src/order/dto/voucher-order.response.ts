import { ApiProperty } from '@nestjs/swagger';

export class VoucherOrderResponse {
  @ApiProperty({ description: 'Decimal string' }) id: string;
  @ApiProperty() userId: string;
  @ApiProperty() voucherId: string;
  @ApiProperty({ description: '1 unpaid, 2 paid, 3 used, 4 cancelled, 5 refunding, 6 refunded' }) status: number;
  @ApiProperty() payType: number;
  @ApiProperty() createTime: string;
}
