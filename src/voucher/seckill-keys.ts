/**
 * Redis keys of one seckill voucher's live sale, owned by the voucher module. The hash tag
 * `{voucherId}` puts all of them in one cluster slot, so every script that touches a sale runs
 * unchanged on Redis Cluster; the asynchronous order path keeps its own keys in the same slot
 * (`src/order/async/order-stream.keys.ts`), for its scripts that change the sale atomically with them.
 */
export interface SeckillKeys {
  /** hash: stock, begin, end (ms); async mode adds accepted, settled */
  state: string;
  /** set of user ids that bought (or hold an accepted order) */
  buyers: string;
  /** set of order ids whose unit was given back (cancel, expiry, refund, dead letter): each is returned once */
  returned: string;
}

export function seckillKeys(voucherId: string): SeckillKeys {
  const base = `seckill:{${voucherId}}`;
  return {
    state: base,
    buyers: `${base}:buyers`,
    returned: `${base}:returned`,
  };
}

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
