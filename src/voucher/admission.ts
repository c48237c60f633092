/**
 * The outcome of a request's admission to a sale — one type for both order paths, whose scripts run
 * the same checks in the same order (rate limits, state, window by Redis TIME, stock, buyer):
 *
 * - `unpublished`: the sale has no state in Redis (no such voucher, keys expired, or state lost)
 * - `not-started`, `ended`, `sold-out`, `already-bought`: the sale's answers
 * - `reserved` (sync, `seckill-reserve.lua`): a unit is held for the request's MySQL transaction,
 *   which decides; it is confirmed or released after
 * - `accepted` (async, `seckill-admit.lua`): the unit is taken and the order is in the voucher's
 *   stream (202); consumers persist it
 * - `backlog` (async): too many accepted orders are not yet in MySQL (ORDER_MAX_BACKLOG)
 * - `rate-limited`: the request's token buckets were empty; nothing else changed
 */
export type Admission =
  | 'unpublished'
  | 'not-started'
  | 'ended'
  | 'sold-out'
  | 'already-bought'
  | 'reserved'
  | 'accepted'
  | 'backlog'
  | 'rate-limited';

/** `seckill-reserve.lua`'s outcome codes (sync), in the order it checks. */
export const RESERVE_ADMISSIONS: readonly Admission[] = [
  'unpublished',
  'not-started',
  'ended',
  'sold-out',
  'already-bought',
  'reserved',
  'rate-limited',
];

/** `seckill-admit.lua`'s outcome codes (async), in the order it checks. */
export const ADMIT_ADMISSIONS: readonly Admission[] = [
  'unpublished',
  'not-started',
  'ended',
  'sold-out',
  'already-bought',
  'accepted',
  'backlog',
  'rate-limited',
];

/** One request's admission as both paths' batchers answer it. */
export interface AdmissionOutcome {
  admission: Admission;
  /** When a rate-limited request may try again (ms; 0 otherwise). */
  retryAfterMs: number;
  /** The sale's end (ms, Redis' clock; 0 if it has no state). */
  endMs: number;
}
