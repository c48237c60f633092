import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdWorkerModule } from '../id-worker/id-worker.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { VoucherModule } from '../voucher/voucher.module';
import { ActiveSales } from './async/active-sales';
import { AsyncOrderService } from './async/async-order.service';
import { OrderBatchRepository } from './async/order-batch.repository';
import { OrderPersister } from './async/order-persister';
import { OrderRecovery } from './async/order-recovery';
import { OrderStreamConsumer } from './async/order-stream.consumer';
import { OrderStreamMetrics } from './async/order-stream.metrics';
import { AdmissionBatcher } from './async/admission-batcher';
import { OrderStreamStore } from './async/order-stream.store';
import { RedisDurabilityCheck } from './async/redis-durability.check';
import { SaleRebuilder } from './async/sale-rebuilder';
import { SoldOutMemory } from './async/sold-out-memory';
import { OrderMetrics } from './order-metrics';
import { OrderController } from './order.controller';
import { OrderRepository } from './order.repository';
import { OrderService } from './order.service';
import { SeckillRoute } from './seckill.route';

@Module({
  imports: [VoucherModule, IdWorkerModule, AuthModule, RateLimitModule],
  controllers: [OrderController],
  providers: [
    OrderService,
    OrderRepository,
    OrderMetrics,
    SeckillRoute,
    // The asynchronous path (ORDER_MODE=async); its consumers stay idle in sync mode.
    RedisDurabilityCheck,
    AsyncOrderService,
    ActiveSales,
    SoldOutMemory,
    OrderStreamStore,
    AdmissionBatcher,
    OrderBatchRepository,
    OrderPersister,
    OrderStreamConsumer,
    OrderRecovery,
    OrderStreamMetrics,
    SaleRebuilder,
  ],
  exports: [OrderService],
})
export class OrderModule {}
