import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A voucher as the API shows it: ids as decimal strings, money in cents, times in ISO-8601. */
export class VoucherResponse {
  @ApiProperty() id: string;
  @ApiProperty() shopId: string;
  @ApiProperty() title: string;
  @ApiPropertyOptional({ nullable: true }) subTitle: string | null;
  @ApiPropertyOptional({ nullable: true }) rules: string | null;
  @ApiProperty() payValue: number;
  @ApiProperty() actualValue: number;
  @ApiProperty({ enum: [0, 1] }) type: number;
  @ApiProperty() status: number;
  @ApiPropertyOptional({ description: 'Remaining stock (seckill only)' }) stock?: number;
  @ApiPropertyOptional() beginTime?: string;
  @ApiPropertyOptional() endTime?: string;
}
