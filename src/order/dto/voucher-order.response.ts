import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

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
  @ApiPropertyOptional({ description: 'FAILED only: why it could not be persisted' }) reason?: string;
}
