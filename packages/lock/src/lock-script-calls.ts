import type { LockKeys } from './lock-keys';
import { lockScripts } from './lock-scripts';
import type { LockRedisClient } from './redis-client';

/**
 * One typed function per lock script: the request as named fields, the reply as a discriminated
 * result. The lock, RedLock and the scripts' tests all call the scripts through these, so the
 * argument layout and the reply encoding (integers on the hot path, see `lua/`) live here only.
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

/** A lease renewal of `owner`'s hold. */
export interface RenewRequest {
  lockKey: string;
  owner: string;
  leaseMs: number;
}

/** Runs renew.lua: true if the owner still held the lock (its lease is extended), false if not. */
export async function renew(
  client: LockRedisClient,
  request: RenewRequest,
  mapError: (error: unknown) => Error,
): Promise<boolean> {
  return (
    (await lockScripts.renew.run<number>(client, [request.lockKey], [request.owner, request.leaseMs], mapError)) === 1
  );
}

/** Many renewals in one round trip; per-request failures come back as errors, not thrown. */
export async function renewMany(client: LockRedisClient, requests: RenewRequest[]): Promise<(boolean | Error)[]> {
  const results = await lockScripts.renew.runPipeline<number>(
    client,
    requests.map((request) => ({ keys: [request.lockKey], args: [request.owner, request.leaseMs] })),
  );
  return results.map((result) => (result instanceof Error ? result : result === 1));
}

/**
 * A replica check of a new hold in one round trip on the lock's connection (on a Cluster the
 * pipeline goes to the lock's master): renew.lua, then `WAIT replicas timeoutMs`. WAIT counts the
 * writes of the connection it runs on; the renewal is such a write, after the grant (the
 * replication stream is one ordered log), whichever connection wrote the grant — another process's
 * release, or this connection before a reconnect (a bare WAIT on a fresh connection would confirm
 * at once). Reports whether `owner` still holds the lock and how many replicas confirmed.
 */
export async function confirmOnReplicas(
  client: LockRedisClient,
  request: RenewRequest,
  sync: { replicas: number; timeoutMs: number },
): Promise<{ held: boolean; acknowledged: number }> {
  const script = lockScripts.renew;
  const send = async (byEval: boolean) => {
    const pipeline = client.pipeline();
    if (!pipeline.wait || !pipeline.eval) {
      throw new TypeError('replicaSync needs a client whose pipeline has eval and wait (ioredis)');
    }
    const args = [request.lockKey, request.owner, request.leaseMs];
    if (byEval) {
      pipeline.eval(script.source, 1, ...args);
    } else {
      pipeline.evalsha(script.sha, 1, ...args);
    }
    pipeline.wait(sync.replicas, sync.timeoutMs);
    return (await pipeline.exec()) ?? [];
  };
  let replies = await send(false);
  const noScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');
  if (noScript(replies[0]?.[0])) {
    replies = await send(true);
  }
  const [[renewError, renewed], [waitError, acknowledged]] = replies;
  const failed = renewError ?? waitError;
  if (failed) {
    throw failed;
  }
  return { held: renewed === 1, acknowledged: Number(acknowledged) };
}

/** Runs force-release.lua: deletes the lock whoever holds it and wakes its waiters; true if it existed. */
export async function forceRelease(
  client: LockRedisClient,
  request: { keys: LockKeys; sharded?: boolean },
): Promise<boolean> {
  const script = request.sharded ? lockScripts.forceReleaseSharded : lockScripts.forceRelease;
  return (await script.run<number>(client, [request.keys.lock, request.keys.channel], [])) === 1;
}

/**
 * Runs leave-queue.lua for a waiter that gives up: removes its process's queue entry if it still
 * names `owner`. Resolves 0, or the fencing token if a release granted `owner` the lock meanwhile
 * (then `owner` holds it).
 */
export function leaveQueue(
  client: LockRedisClient,
  request: { keys: LockKeys; owner: string; processId: string },
  mapError: (error: unknown) => Error,
): Promise<number> {
  return lockScripts.leaveQueue.run<number>(
    client,
    [...request.keys.waitKeys],
    [request.owner, request.processId],
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
