import type { LockKeys } from '../lock-keys';
import { lockScripts } from '../lock-scripts';
import type { LockRedisClient } from '../redis-client';

/**
 * One typed function per lock script (this folder: one file per script), the request as named
 * fields, the reply as a discriminated result. The lock, RedLock and the scripts' tests all call the
 * scripts through these, so the argument layout and the reply encoding (integers on the hot path,
 * see `lua/`) live here only.
 */

/** What acquire.lua answered. */
export type AcquireResult =
  /** A first hold (count 1) and its fencing token. */
  | { readonly kind: 'granted'; readonly fencingToken: number }
  /** A re-entry: the hold count is now `holdCount` (> 1); the token is the first hold's. */
  | { readonly kind: 'reentered'; readonly fencingToken: number; readonly holdCount: number }
  /** Held by another owner (or, for a re-entry, no longer this owner's): `ttlMs` left, 0 = no TTL. */
  | { readonly kind: 'busy'; readonly ttlMs: number };

/** An acquire attempt. */
export interface AcquireRequest {
  keys: LockKeys;
  owner: string;
  leaseMs: number;
  /** The owner holds the lock already and re-enters (never takes it anew). */
  reenter?: boolean;
  /**
   * If busy, queue `processId` (a process, or for a fair lock the owner itself) for `ttlMs`: the
   * release that finds it first in line grants it the lock directly.
   */
  waiter?: { ttlMs: number; processId: string };
  /** A fair lock: a free lock is taken only by the first live waiter in line (strict FIFO). */
  fair?: boolean;
}

type AcquireReply = number | [number, number];

/** Decodes acquire.lua's reply: `n > 0` granted, `n <= 0` busy (−TTL), `[token, count]` re-entered. */
export function acquireResult(reply: AcquireReply): AcquireResult {
  if (typeof reply !== 'number') {
    return { kind: 'reentered', fencingToken: reply[0], holdCount: reply[1] };
  }
  return reply > 0 ? { kind: 'granted', fencingToken: reply } : { kind: 'busy', ttlMs: reply === 0 ? 0 : -reply };
}

/** The hold count after a successful acquire. */
export const holdCountOf = (result: AcquireResult): number => (result.kind === 'reentered' ? result.holdCount : 1);

/**
 * Runs acquire.lua; `onResult` runs in the same promise step (no extra promise on the hot path).
 * `mapError` turns a Redis failure into the caller's error.
 */
export function acquire<R>(
  client: LockRedisClient,
  request: AcquireRequest,
  onResult: (result: AcquireResult) => R | PromiseLike<R>,
  mapError: (error: unknown) => Error,
): Promise<R> {
  const { keys, owner, leaseMs, reenter, waiter, fair } = request;
  return lockScripts.acquire.call(
    client,
    waiter || fair ? keys.waitKeys : keys.acquireKeys,
    fair
      ? [owner, leaseMs, reenter ? '1' : '0', Math.ceil(waiter?.ttlMs ?? 0), waiter?.processId ?? owner, '1']
      : waiter
        ? [owner, leaseMs, reenter ? '1' : '0', Math.ceil(waiter.ttlMs), waiter.processId]
        : reenter
          ? [owner, leaseMs, '1']
          : [owner, leaseMs],
    (reply: AcquireReply) => onResult(acquireResult(reply)),
    mapError,
  );
}
