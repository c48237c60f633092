import { Global, Module } from '@nestjs/common';
import { IdWorkerModule } from '../../id-worker/id-worker.module';
import { RateLimitModule } from '../../rate-limit/rate-limit.module';
import { VoucherModule } from '../../voucher/voucher.module';
import { SALE_PUBLISH_HOOK } from '../../voucher/sale-publish.hook';
import { ASYNC_ORDERS } from '../async-orders';
import { OrderCoreModule } from '../order-core.module';
import { ActiveSales } from './active-sales';
import { AdmissionBatcher } from './admission-batcher';
import { AdmissionDurability } from './admission-durability';
import { AsyncAdmissionService } from './async-admission.service';
import { AsyncOrderLookupService } from './async-order-lookup.service';
import { AsyncOrderService } from './async-order.service';
import { OrderAdmissionStore } from './order-admission.store';
import { OrderDeliveryStore } from './order-delivery.store';
import { OrderPersister } from './order-persister';
import { OrderRecovery } from './order-recovery';
import { OrderStreamConsumer } from './order-stream.consumer';
import { OrderStreamMetrics } from './order-stream.metrics';
import { OrderSettlementStore } from './order-settlement.store';
import { OrderStreamQueries } from './order-stream.queries';
import { OrderStreamSnapshotStore } from './order-stream-snapshot.store';
import { ordersStreamPublishHook } from './orders-stream.publish-hook';
import { RedisDurabilityCheck } from './redis-durability.check';
import { ReplicaConfirmationStore } from './replica-confirmation.store';
import { SaleRebuilder } from './sale-rebuilder';
import { SaleRestoreStore } from './sale-restore.store';
import { SaleSnapshotRepository } from './sale-snapshot.repository';
import { SoldOutMemory } from './sold-out-memory';

/**
 * The asynchronous order path (ORDER_MODE=async): admission in Redis, the voucher streams, their
 * consumers, recovery, dead letters and the rebuild of a lost sale state. Registered only in async mode
 * (`AppModule.forEnvironment`): a sync replica creates none of these providers and starts no consumer.
 *
 * Global so that `OrderModule` and `VoucherModule`, registered in both modes, find its exports without
 * importing it (an import would create it in sync mode too); both take them `@Optional()`. Its exports
 * are narrow: `ASYNC_ORDERS` (`AsyncOrders`) and the voucher module's `SALE_PUBLISH_HOOK` (the orders
 * stream created with a sale's state), never a store.
 */
@Global()
@Module({
  imports: [OrderCoreModule, VoucherModule, IdWorkerModule, RateLimitModule],
  providers: [
    RedisDurabilityCheck,
    AsyncOrderService,
    { provide: ASYNC_ORDERS, useExisting: AsyncOrderService },
    AsyncAdmissionService,
    AsyncOrderLookupService,
    AdmissionDurability,
    ActiveSales,
    SoldOutMemory,
    OrderAdmissionStore,
    OrderDeliveryStore,
    OrderSettlementStore,
    ReplicaConfirmationStore,
    OrderStreamQueries,
    OrderStreamSnapshotStore,
    AdmissionBatcher,
    OrderPersister,
    OrderStreamConsumer,
    OrderRecovery,
    OrderStreamMetrics,
    SaleRebuilder,
    SaleRestoreStore,
    SaleSnapshotRepository,
    // Every published sale gets its orders stream and consumer group first.
    {
      provide: SALE_PUBLISH_HOOK,
      inject: [OrderDeliveryStore],
      useFactory: ordersStreamPublishHook,
    },
  ],
  exports: [ASYNC_ORDERS, SALE_PUBLISH_HOOK],
})
export class AsyncOrderModule {}
