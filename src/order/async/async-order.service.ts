import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../auth/auth-user';
import type { SaleRequest } from '../../voucher/sale-request';
import type { AsyncOrders, OrderLookup } from '../async-orders';
import type { AsyncSaleBacklog } from '../dto/sale-orders.response';
import { AsyncAdmissionService } from './async-admission.service';
import { AsyncOrderLookupService } from './async-order-lookup.service';

/**
 * The asynchronous path as the order module's shared code sees it (`ASYNC_ORDERS`): the admission
 * (`AsyncAdmissionService`) and the reads of orders on their way (`AsyncOrderLookupService`) behind
 * the one narrow interface `AsyncOrders`.
 */
@Injectable()
export class AsyncOrderService implements AsyncOrders {
  constructor(
    private readonly admission: AsyncAdmissionService,
    private readonly lookups: AsyncOrderLookupService,
  ) {}

  seckill(request: SaleRequest): Promise<string> {
    return this.admission.seckill(request);
  }

  lookup(orderId: string, user: AuthUser): Promise<OrderLookup | null> {
    return this.lookups.lookup(orderId, user);
  }

  backlog(voucherId: string): Promise<AsyncSaleBacklog> {
    return this.lookups.backlog(voucherId);
  }
}
