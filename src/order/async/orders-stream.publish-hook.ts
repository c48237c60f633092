import type { SalePublishHook } from '../../voucher/sale-publish.hook';
import type { OrderStreamStore } from './order-stream.store';

/**
 * The asynchronous path's `SalePublishHook`: a sale's orders stream and its consumer group are created
 * (expiring with the sale's keys) before its state is published, so the first admission's entry is
 * read by the consumers at once.
 */
export function ordersStreamPublishHook(stream: OrderStreamStore): SalePublishHook {
  return { beforePublish: (voucherId, expireAt) => stream.ensureOrdersStream(voucherId, expireAt) };
}
