import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SeckillStateStore } from './seckill-state.store';
import { ReserveBatcher } from './reserve.batcher';
import { ReconcilerStatusStore } from './reconciler-status.store';
import { VoucherReconciler } from './voucher-reconciler';
import { VoucherController } from './voucher.controller';
import { VoucherRepository } from './voucher.repository';
import { VoucherCatalogService } from './voucher-catalog.service';
import { VoucherService } from './voucher.service';

@Module({
  imports: [RateLimitModule],
  controllers: [VoucherController],
  providers: [
    VoucherService,
    VoucherCatalogService,
    VoucherRepository,
    SeckillStateStore,
    ReserveBatcher,
    VoucherReconciler,
    ReconcilerStatusStore,
  ],
  // The module's one service: its tables and Redis keys are reached only through it.
  exports: [VoucherService],
})
export class VoucherModule {}
