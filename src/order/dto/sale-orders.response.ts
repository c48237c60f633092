import { ApiProperty } from '@nestjs/swagger';

/** Async mode: where the sale's accepted orders are on their way to MySQL. */
export class AsyncSaleBacklog {
  @ApiProperty({
    description: 'Entries in the order stream (every order accepted; never trimmed while the sale lives)',
  })
  streamLength: number;
  @ApiProperty({ description: 'Accepted orders not yet in MySQL' }) pendingOrders: number;
  @ApiProperty({ description: 'Entries delivered to a consumer and not yet acknowledged' }) delivered: number;
  @ApiProperty({ description: 'Entries not yet delivered to any consumer' }) undelivered: number;
  @ApiProperty({ description: 'Orders dead-lettered (FAILED, unit given back)' }) deadLettered: number;
}

/** A sale's orders: what MySQL holds and, in async mode, what is still on its way. */
export class SaleOrders {
  @ApiProperty({ description: 'Orders of the voucher in MySQL' }) mysqlOrders: number;
  @ApiProperty({
    description: 'Orders in MySQL by status (1 unpaid, 2 paid, 3 used, 4 cancelled, 6 refunded)',
    type: 'object',
    additionalProperties: { type: 'integer' },
  })
  byStatus: Record<string, number>;
  @ApiProperty({ description: "Units of cancelled or refunded orders given back to the sale's Redis state" })
  returnedUnits: number;
  @ApiProperty({ type: AsyncSaleBacklog, nullable: true, description: 'null in sync mode' })
  async: AsyncSaleBacklog | null;
}
