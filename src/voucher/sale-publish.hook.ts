/**
 * What another part of the app prepares in a sale's Redis slot right before its state is published
 * (the asynchronous order path: the voucher's orders stream and consumer group, so consumers can read
 * it from the first admission on). Provided as `SALE_PUBLISH_HOOK` by that part only when it is
 * registered; the voucher module knows nothing of what it prepares.
 */
export interface SalePublishHook {
  /** Runs before the state is written; `expireAt` (ms) is when the sale's keys expire. */
  beforePublish(voucherId: string, expireAt: number): Promise<void>;
}

/** Injection token of the optional `SalePublishHook`. */
export const SALE_PUBLISH_HOOK = Symbol('SALE_PUBLISH_HOOK');
