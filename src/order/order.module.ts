import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdWorkerModule } from '../id-worker/id-worker.module';
import { VoucherModule } from '../voucher/voucher.module';
import { OrderMetrics } from './order-metrics';
import { OrderController } from './order.controller';
import { OrderRepository } from './order.repository';
import { OrderService } from './order.service';
import { SeckillRoute } from './seckill.route';

@Module({
  imports: [VoucherModule, IdWorkerModule, AuthModule],
  controllers: [OrderController],
  providers: [OrderService, OrderRepository, OrderMetrics, SeckillRoute],
})
export class OrderModule {}
