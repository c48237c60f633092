import { Module } from '@nestjs/common';
import { SeckillStateStore } from './seckill-state.store';
import { VoucherReconciler } from './voucher-reconciler';
import { VoucherController } from './voucher.controller';
import { VoucherRepository } from './voucher.repository';
import { VoucherService } from './voucher.service';

@Module({
  controllers: [VoucherController],
  providers: [VoucherService, VoucherRepository, SeckillStateStore, VoucherReconciler],
  exports: [VoucherService, VoucherRepository, SeckillStateStore],
})
export class VoucherModule {}
