import { Module } from '@nestjs/common';
import { OrderModule } from '../order/order.module';
import { VoucherModule } from '../voucher/voucher.module';
import { AdminController } from './admin.controller';

@Module({ imports: [VoucherModule, OrderModule], controllers: [AdminController] })
export class AdminModule {}
