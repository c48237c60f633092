import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { OrderStatus } from '../../voucher-order.entity';

const ID = /^[1-9]\d{0,18}$/;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** `GET /voucher-order`: filters and the page. */
export class ListOrdersQuery {
  @ApiPropertyOptional({ description: 'Only orders of this voucher', pattern: ID.source })
  @IsOptional()
  @Matches(ID, { message: 'voucherId must be a positive integer id' })
  voucherId?: string;

  @ApiPropertyOptional({ enum: [1, 2, 3, 4, 5, 6], description: 'Only orders in this status' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @IsIn(Object.values(OrderStatus).filter((value) => typeof value === 'number'))
  status?: number;

  @ApiPropertyOptional({ description: "The previous page's `nextCursor`", pattern: ID.source })
  @IsOptional()
  @Matches(ID, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}
