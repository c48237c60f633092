import type { LockKeys } from '../lock-keys';
import { lockScripts } from '../lock-scripts';
import type { LockRedisClient } from '../redis-client';

/** What release.lua answered. */
export type ReleaseResult =
  /** This owner does not hold the lock; nothing was changed. */
  | { readonly kind: 'not-held' }
  /** Released; nobody was queued (waiters that were about to queue were notified). */
  | { readonly kind: 'released' }
  /** Granted straight to the first queued process's waiting owner (told by pub/sub). */
  | { readonly kind: 'granted' }
  /** One re-entry released; `holdCount` holds are left. */
  | { readonly kind: 'left'; readonly holdCount: number }
  /** Handed straight to the requested next owner, with its fencing token. */
  | { readonly kind: 'handed-over'; readonly fencingToken: number };

/** A release: the final hold, one re-entry, or the final hold handed to a waiter of this process. */
export type ReleaseRequest = {
  keys: LockKeys;
  owner: string;
  /** Tell waiters by sharded pub/sub (SPUBLISH) instead of PUBLISH. */
  sharded?: boolean;
} & (
  | { mode: 'final' }
  | { mode: 'one'; leaseMs: number }
  | {
      mode: 'hand-over';
      leaseMs: number;
      to: { owner: string; leaseMs: number };
      processId: string;
      /** Local hand-overs allowed in a row while another process is queued. */
      burstLimit: number;
      /** Hand-overs this process made without a round trip since Redis granted the lock (they count toward the burst). */
      localHandovers?: number;
    }
);

type ReleaseReply = number | [number];

/**
 * Decodes release.lua's reply: −1 not held, 0 released, −2 granted to a queued process, `n > 0`
 * holds left, `[token]` handed over.
 */
export function releaseResult(reply: ReleaseReply): ReleaseResult {
  if (typeof reply !== 'number') {
    return { kind: 'handed-over', fencingToken: reply[0] };
  }
  return reply === 0 ? RELEASED : reply === -2 ? GRANTED : reply === -1 ? NOT_HELD : { kind: 'left', holdCount: reply };
}

const NOT_HELD: ReleaseResult = Object.freeze({ kind: 'not-held' });
const RELEASED: ReleaseResult = Object.freeze({ kind: 'released' });
const GRANTED: ReleaseResult = Object.freeze({ kind: 'granted' });

/** Runs release.lua; `onResult` runs in the same promise step. */
export function release<R>(
  client: LockRedisClient,
  request: ReleaseRequest,
  onResult: (result: ReleaseResult) => R | PromiseLike<R>,
  mapError: (error: unknown) => Error,
): Promise<R> {
  const { keys, owner } = request;
  return (request.sharded ? lockScripts.releaseSharded : lockScripts.release).call(
    client,
    request.mode === 'hand-over' ? keys.handoverKeys : keys.releaseKeys,
    request.mode === 'hand-over'
      ? [
          owner,
          request.leaseMs,
          '1',
          request.to.owner,
          request.to.leaseMs,
          request.processId,
          request.burstLimit,
          request.localHandovers ?? 0,
        ]
      : request.mode === 'final'
        ? [owner]
        : [owner, request.leaseMs, '0'],
    (reply: ReleaseReply) => onResult(releaseResult(reply)),
    mapError,
  );
}

/** A direct grant as release.lua publishes it on the lock's channel: `g\n<owner>\n<token>`. */
export function parseGrant(message: string): { owner: string; fencingToken: number } | undefined {
  if (!message.startsWith('g\n')) {
    return undefined;
  }
  const end = message.lastIndexOf('\n');
  return { owner: message.slice(2, end), fencingToken: Number(message.slice(end + 1)) };
}
