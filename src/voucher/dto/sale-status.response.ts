import { ApiProperty } from '@nestjs/swagger';
import type { ReconcilerStatus } from '../reconciler-status.store';

/** The sale's state in Redis (what admission decides by). */
export class RedisSaleState {
  @ApiProperty({ description: 'false: no (complete) state in Redis — it is rebuilt on the next order' })
  published: boolean;
  @ApiProperty({ type: Number, nullable: true }) stock: number | null;
  @ApiProperty({ description: 'Users recorded as buyers' }) buyers: number;
  @ApiProperty({ type: Number, nullable: true, description: 'async: orders accepted so far' }) accepted: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'async: accepted orders persisted and acknowledged' })
  settled: number | null;
}

export class ReconcilerStatusResponse implements ReconcilerStatus {
  @ApiProperty({ type: String, nullable: true, description: 'Last round (sync mode), by the Redis clock' })
  lastRoundAt: string | null;
  @ApiProperty({ type: String, nullable: true }) instanceId: string | null;
  @ApiProperty({ description: 'Sales it republished in that round' }) repaired: number;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

/** A seckill voucher's sale as MySQL and Redis see it. */
export class SaleStatus {
  @ApiProperty() voucherId: string;
  @ApiProperty() title: string;
  @ApiProperty() beginTime: string;
  @ApiProperty() endTime: string;
  @ApiProperty({ description: 'Remaining stock in MySQL (the truth; async: lags by what is not yet persisted)' })
  mysqlStock: number;
  @ApiProperty({ type: RedisSaleState }) redis: RedisSaleState;
  @ApiProperty({ type: ReconcilerStatusResponse }) reconciler: ReconcilerStatusResponse;
}
