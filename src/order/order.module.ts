import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdWorkerModule } from '../id-worker/id-worker.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { VoucherModule } from '../voucher/voucher.module';
import { OrderCoreModule } from './order-core.module';
import { OrderController } from './order.controller';
import { OrderRepository } from './order.repository';
import { OrderLookupService } from './order-lookup.service';
import { OrderService } from './order.service';
import { SeckillRoute } from './seckill.route';
import { BatchedOrderPlacer } from './sync/batched-order.placer';
import { SyncOrderBatcher } from './sync/sync-order.batcher';
import { SyncBatchWriter } from './sync/sync-batch.writer';
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
  imports: [OrderCoreModule, VoucherModule, IdWorkerModule, AuthModule, RateLimitModule],
  // The lifecycle's list route (GET /voucher-order) is registered before GET /voucher-order/:id.
  controllers: [OrderLifecycleController, OrderController, AdminOrderController],
  providers: [
    OrderService,
    OrderLookupService,
    OrderRepository,
    SeckillRoute,
    // The synchronous path's group commit (ORDER_SYNC_BATCH_MAX > 1).
    BatchedOrderPlacer,
    SyncOrderBatcher,
    SyncBatchWriter,
    // After the sale: pay, cancel, use, refund, expiry and the units they give back.
    OrderLifecycleService,
    OrderTransitionRepository,
    PayBatcher,
    OrderExpiryScheduler,
    StockReturnOutbox,
    StockReturnRelay,
    LifecycleMetrics,
  ],
  // The asynchronous path is AsyncOrderModule's, registered only with ORDER_MODE=async
  // (AppModule.forEnvironment); the code here reaches it through ASYNC_ORDERS alone.
  exports: [OrderService],
})
export class OrderModule {}
