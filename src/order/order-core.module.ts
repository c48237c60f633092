import { Module } from '@nestjs/common';
import { OrderBatchRepository } from './order-batch.repository';
import { OrderMetrics } from './order-metrics';

/**
 * What both order paths share: the batched writes of `tb_voucher_order` (the sync group commit and the
 * async consumers) and the orders' outcome counter. Internal to `src/order/`: imported by `OrderModule`
 * and `AsyncOrderModule` only, so each of these exists once whichever paths are registered.
 */
@Module({ providers: [OrderBatchRepository, OrderMetrics], exports: [OrderBatchRepository, OrderMetrics] })
export class OrderCoreModule {}
