import { acquire, type AcquireResult } from './calls/acquire.call';
import { leaveQueue } from './calls/leave-queue.call';
import type { HeldLocks } from './held-locks';
import { gateKey } from './lock-keys';
import type { AttemptRequest, LockRef } from './lock-steps';
import { LockUnavailableError } from './lock.errors';
import type { LockRedisClient } from './redis-client';

/**
 * A lock's requests to be granted in Redis: an acquire attempt (perhaps listing its process, or a
 * fair lock's owner, in the lock's queue), and leaving that queue on giving up.
 */
export class LockAttempts {
  constructor(
    private readonly options: {
      holds: HeldLocks;
      node(index: number): LockRedisClient;
      /** This process in the lock queues (`LockOwners.processId`). */
      processId: string;
    },
  ) {}

  /**
   * One acquire attempt in Redis; `onResult` runs in the same promise step. With `waiterTtlMs` > 0
   * a busy answer also lists this process as waiting for that long, which stops other processes
   * from handing the lock around among themselves. `onError` runs before a Redis failure is
   * turned into `LockUnavailableError`.
   */
  attempt<R>(
    request: AttemptRequest,
    onResult: (result: AcquireResult) => R | PromiseLike<R>,
    onError?: () => void,
  ): Promise<R> {
    const { keys, waiterTtlMs = 0 } = request;
    if (!request.reenter && this.options.holds.carriedFor(gateKey(request.node, keys.lock), request.owner)) {
      // This owner's field carries another local owner's hold (a RedLock part of the same name, say):
      // busy for this owner, whatever Redis would answer for the field.
      return Promise.resolve(CARRIED_BUSY).then(onResult);
    }
    return acquire(
      this.options.node(request.node),
      {
        keys,
        owner: request.owner,
        leaseMs: request.leaseMs,
        reenter: request.reenter,
        fair: request.fair,
        waiter:
          waiterTtlMs > 0
            ? { ttlMs: waiterTtlMs, processId: request.fair ? request.owner : this.options.processId }
            : undefined,
      },
      onResult,
      (error) => {
        onError?.();
        return new LockUnavailableError(`Redis could not be reached to acquire ${keys.lock}`, keys.lock, {
          cause: error,
        });
      },
    );
  }

  /** A waiter that gives up leaves the Redis queue: 0, or the token if a release granted it the lock meanwhile. */
  leaveQueue(lock: LockRef): Promise<number> {
    return leaveQueue(
      this.options.node(lock.node),
      // A fair lock queues the owner itself; the default queues the process.
      { keys: lock.keys, owner: lock.owner, processId: lock.fair ? lock.owner : this.options.processId },
      (error) =>
        new LockUnavailableError(`Redis could not be reached to stop waiting for ${lock.name}`, lock.name, {
          cause: error,
        }),
    );
  }
}

/** An acquire attempt by an owner whose field carries another local owner's hold. */
const CARRIED_BUSY: AcquireResult = Object.freeze({ kind: 'busy', ttlMs: 0 });
