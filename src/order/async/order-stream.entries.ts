import { pairsToRecord } from '../../redis/redis-replies';

/** What a voucher's orders stream holds, as its stores and queries read it. */

/** One accepted order as read from a voucher's stream. */
export interface StreamOrder {
  /** Stream entry id, e.g. `1700000000000-0`. */
  streamId: string;
  orderId: string;
  userId: string;
  voucherId: string;
}

/** An entry whose fields are not an order (written by hand, truncated): dead-lettered at once. */
export interface MalformedEntry {
  streamId: string;
  voucherId: string;
  fields: string[];
}

export type RawEntry = [id: string, fields: string[] | null];

const DECIMAL_ID = /^[1-9]\d{0,19}$/;

/** Sorts raw stream entries into orders and malformed entries (wrong fields, another voucher). */
export function parseEntries(
  voucherId: string,
  entries: RawEntry[],
  orders: StreamOrder[],
  malformed: MalformedEntry[],
) {
  for (const [streamId, fields] of entries) {
    const record = pairsToRecord(fields ?? []);
    const { orderId, userId } = record;
    if (
      DECIMAL_ID.test(orderId ?? '') &&
      DECIMAL_ID.test(userId ?? '') &&
      (record.voucherId === undefined || record.voucherId === voucherId)
    ) {
      orders.push({ streamId, orderId, userId, voucherId });
    } else {
      malformed.push({ streamId, voucherId, fields: fields ?? [] });
    }
  }
}
