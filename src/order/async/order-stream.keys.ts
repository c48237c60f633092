import { seckillKeys, type SeckillKeys } from '../../voucher/seckill-keys';

/**
 * The asynchronous order path's Redis keys of one sale — its alone: nothing in the voucher module names
 * them. They share the sale's hash tag `{voucherId}` (one cluster slot), because the path's scripts
 * change the sale's state and buyers in the same atomic call (admit, settle, compensate, restore); so
 * these keys come with the sale's own.
 */
export interface OrderStreamKeys extends SeckillKeys {
  /** stream of accepted orders {orderId, userId, voucherId}, consumer group `ORDER_CONSUMER_GROUP` */
  orders: string;
  /** hash orderId → userId: accepted, not yet in MySQL */
  pending: string;
  /** hash orderId → "userId:reason": dead-lettered orders */
  failed: string;
  /** hash orderId → failed persistence attempts caused by the entry itself */
  attempts: string;
  /** stream of dead-lettered entries, for operators */
  dead: string;
}

export function orderStreamKeys(voucherId: string): OrderStreamKeys {
  const sale = seckillKeys(voucherId);
  return {
    ...sale,
    orders: `${sale.state}:orders`,
    pending: `${sale.state}:pending`,
    failed: `${sale.state}:failed`,
    attempts: `${sale.state}:attempts`,
    dead: `${sale.state}:dead`,
  };
}

/** The consumer group every replica's consumer joins, one per orders stream. */
export const ORDER_CONSUMER_GROUP = 'order-writers';
