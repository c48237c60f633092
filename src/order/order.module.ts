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
import { OrderStreamQueries } from './async/order-stream.queries';
import { OrderStreamStore } from './async/order-stream.store';
import { RedisDurabilityCheck } from './async/redis-durability.check';
import { SaleRebuilder } from './async/sale-rebuilder';
import { SoldOutMemory } from './async/sold-out-memory';
import { OrderMetrics } from './order-metrics';
import { OrderController } from './order.controller';
import { OrderRepository } from './order.repository';
import { OrderService } from './order.service';
import { SeckillRoute } from './seckill.route';
import { BatchedOrderPlacer } from './sync/batched-order.placer';
import { SyncOrderBatcher } from './sync/sync-order.batcher';
import { AdminOrderController } from './lifecycle/admin-order.controller';
import { LifecycleMetrics } from './lifecycle/lifecycle.metrics';
import { OrderExpiryScheduler } from './lifecycle/order-expiry.scheduler';
import { OrderLifecycleController } from './lifecycle/order-lifecycle.controller';
import { OrderLifecycleService } from './lifecycle/order-lifecycle.service';
import { OrderTransitionRepository } from './lifecycle/order-transition.repository';
import { PayBatcher } from './lifecycle/pay.batcher';
import { StockReturnOutbox } from './lifecycle/stock-return.outbox';
import { StockReturnRelay } from './lifecycle/stock-return.relay';

@Module({
  imports: [VoucherModule, IdWorkerModule, AuthModule, RateLimitModule],
  // The lifecycle's list route (GET /voucher-order) is registered before GET /voucher-order/:id.
  controllers: [OrderLifecycleController, OrderController, AdminOrderController],
  providers: [
    OrderService,
    OrderRepository,
    OrderMetrics,
    SeckillRoute,
    // The synchronous path's group commit (ORDER_SYNC_BATCH_MAX > 1).
    BatchedOrderPlacer,
    SyncOrderBatcher,
    // After the sale: pay, cancel, use, refund, expiry and the units they give back.
    OrderLifecycleService,
    OrderTransitionRepository,
    PayBatcher,
    OrderExpiryScheduler,
    StockReturnOutbox,
    StockReturnRelay,
    LifecycleMetrics,
    // The asynchronous path (ORDER_MODE=async); its consumers stay idle in sync mode.
    RedisDurabilityCheck,
    AsyncOrderService,
    ActiveSales,
    SoldOutMemory,
    OrderStreamStore,
    OrderStreamQueries,
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
