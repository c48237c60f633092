/**
 * Redis keys of one seckill voucher. The hash tag `{voucherId}` puts all of them in one cluster
 * slot, so every script that touches a sale runs unchanged on Redis Cluster.
 */
export interface SeckillKeys {
  /** hash: stock, begin, end (ms); async mode adds accepted, settled */
  state: string;
  /** set of user ids that bought (or hold an accepted order) */
  buyers: string;
  /** stream of accepted orders {orderId, userId, voucherId} (async mode) */
  orders: string;
  /** hash orderId → userId: accepted, not yet in MySQL */
  pending: string;
  /** hash orderId → "userId:reason": dead-lettered orders */
  failed: string;
  /** hash orderId → failed persistence attempts caused by the entry itself */
  attempts: string;
  /** stream of dead-lettered entries, for operators */
  dead: string;
  /** set of order ids whose unit was given back (cancel, expiry, refund): each is returned once */
  returned: string;
}

export function seckillKeys(voucherId: string): SeckillKeys {
  const base = `seckill:{${voucherId}}`;
  return {
    state: base,
    buyers: `${base}:buyers`,
    orders: `${base}:orders`,
    pending: `${base}:pending`,
    failed: `${base}:failed`,
    attempts: `${base}:attempts`,
    dead: `${base}:dead`,
    returned: `${base}:returned`,
  };
}

/** The consumer group every replica's consumer joins, one per orders stream. */
export const ORDER_CONSUMER_GROUP = 'order-writers';

/** Pub/sub channel on which a compensation announces returned stock (payload: voucher id). */
export const RESTOCK_CHANNEL = 'seckill:restock';

/** Keys are kept a day past the sale's end, then Redis drops them. */
export const KEEP_AFTER_END_MS = 24 * 3600 * 1000;

/**
 * A request's rate-limit buckets within one sale (hash tag of the sale, so the admission scripts
 * check them in the same call): per user and per client address.
 */
export function rateBucketKeys(voucherId: string, userId: string, clientAddress: string): [string, string] {
  const base = `seckill:{${voucherId}}:rate`;
  return [`${base}:user:${userId}`, `${base}:addr:${clientAddress}`];
}
