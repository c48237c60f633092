import type { SalePublishHook } from '../../voucher/sale-publish.hook';
import type { OrderDeliveryStore } from './order-delivery.store';

/**
 * The asynchronous path's `SalePublishHook`: a sale's orders stream and its consumer group are created
 * (expiring with the sale's keys) before its state is published, so the first admission's entry is
 * read by the consumers at once.
 */
export function ordersStreamPublishHook(stream: OrderDeliveryStore): SalePublishHook {
  return { beforePublish: (voucherId, expireAt) => stream.ensureOrdersStream(voucherId, expireAt) };
}
