import { Module } from '@nestjs/common';
import { IdWorkerModule } from '../id-worker/id-worker.module';
import { VoucherModule } from '../voucher/voucher.module';
import { OrderMetrics } from './order-metrics';
import { OrderController } from './order.controller';
import { OrderRepository } from './order.repository';
import { OrderService } from './order.service';

@Module({
  imports: [VoucherModule, IdWorkerModule],
  controllers: [OrderController],
  providers: [OrderService, OrderRepository, OrderMetrics],
})
export class OrderModule {}
