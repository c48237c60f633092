import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

const MAX_CENTS = 1_000_000_000_000;
/** What a DATETIME(3) column holds, in UTC. */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An ISO-8601 time whose UTC instant a DATETIME can store: `9999-12-31T23:59:59-01:00` is valid
 * ISO but is year 10000 in UTC.
 */
function IsStorableTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableTime',
      validator: {
        validate: (value: unknown) => {
          const ms = typeof value === 'string' ? new Date(value).getTime() : NaN;
          return Number.isFinite(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
        },
        defaultMessage: (args) => `${args?.property} must be between 2000-01-01 and 9999-12-31T23:59:59.999Z (in UTC)`,
      },
    },
    options,
  );
}
/**
 * A date and time that names its UTC offset (`Z`, `+08:00`): one without (`2026-11-22T10:00:00`) is
 * valid ISO-8601 but would be read in the replica's own time zone, so replicas in different zones
 * would open the sale at different instants.
 */
const WITH_UTC_OFFSET = /T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const offsetMessage = (property: string) =>
  `${property} must be a date and time with a UTC offset (Z or ±hh:mm), e.g. 2026-11-22T10:00:00Z`;

const toIdString = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;

/** Fields every voucher has (camelCase as in the seed). Money in integer cents. */
abstract class VoucherFields {
  @ApiProperty({ example: '1', description: 'Shop id: positive integer (number or decimal string)' })
  @Transform(toIdString)
  @IsString({ message: 'shopId must be a positive integer' })
  @Matches(/^[1-9]\d{0,18}$/, { message: 'shopId must be a positive integer' })
  shopId: string;

  @ApiProperty({ example: '100 off 50' })
  @IsString()
  @Length(1, 255)
  title: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(255)
  subTitle?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  rules?: string;

  @ApiProperty({ example: 5000, description: 'Price in cents' })
  @IsInt()
  @Min(0)
  @Max(MAX_CENTS)
  payValue: number;

  @ApiProperty({ example: 10000, description: 'Face value in cents' })
  @IsInt()
  @Min(0)
  @Max(MAX_CENTS)
  actualValue: number;
}

/** `POST /voucher`: a normal voucher. */
export class CreateVoucherRequest extends VoucherFields {
  @ApiPropertyOptional({ enum: [0], default: 0 })
  @IsOptional()
  @IsIn([0], { message: 'type must be 0 here; create seckill vouchers with POST /voucher/seckill' })
  type?: number;
}

/** `POST /voucher/seckill`: a seckill voucher with stock and sale window (ISO-8601 times). */
export class CreateSeckillVoucherRequest extends VoucherFields {
  @ApiPropertyOptional({ enum: [1], default: 1 })
  @IsOptional()
  @IsIn([1], { message: 'type must be 1 for a seckill voucher' })
  type?: number;

  @ApiProperty({ example: 100, minimum: 1, maximum: 10_000_000 })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  stock: number;

  @ApiProperty({ example: '2026-11-22T10:00:00Z', description: 'Date and time with a UTC offset (Z or ±hh:mm)' })
  @IsISO8601({ strict: true })
  @Matches(WITH_UTC_OFFSET, { message: offsetMessage('beginTime') })
  @IsStorableTime()
  beginTime: string;

  @ApiProperty({ example: '2026-11-23T10:00:00Z', description: 'Date and time with a UTC offset (Z or ±hh:mm)' })
  @IsISO8601({ strict: true })
  @Matches(WITH_UTC_OFFSET, { message: offsetMessage('endTime') })
  @IsStorableTime()
  endTime: string;
}

export class CreatedIdResponse {
  @ApiProperty({ example: '17', description: 'Decimal string' })
  id: string;
}
