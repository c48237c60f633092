import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt } from 'class-validator';

/** The seed's payment types. */
export const PAY_TYPES = [1, 2, 3] as const;

/** `POST /voucher-order/:id/pay`: a (simulated) payment confirmation. */
export class PayOrderRequest {
  @ApiProperty({ enum: PAY_TYPES, description: '1 balance, 2 Alipay, 3 WeChat (the seed’s pay_type)' })
  @IsInt()
  @IsIn(PAY_TYPES)
  payType: number;
}
