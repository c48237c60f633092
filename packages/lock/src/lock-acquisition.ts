import type { HeldLock } from './held-lock';
import { GRANT_LEASE_MS } from './lua/release.lua';
import type { LockRef, LockSteps } from './lock-steps';
import { LockTimeoutError } from './lock.errors';
import type { LockHandle } from './lock.types';
import { handOut, ReentrantLockHandle, type HoldOwner } from './reentrant-lock.handle';
import { RedisWaiter, type RedisWin } from './redis-waiter';

/** What a first acquisition asks for: how long it may wait, the lease, and how a timeout ends. */
export interface AcquisitionRequest {
  readonly waitTime: number;
  readonly leaseMs: number;
  /** A fixed lease; undefined: a watchdog lease. */
  readonly leaseTime: number | undefined;
  /** `lock()`: a timeout rejects with LockTimeoutError; `tryLock()`: it resolves null. */
  readonly throwOnTimeout: boolean;
}

/**
 * One owner's first acquisition of a ReentrantLock (a re-entry is the lock's own, one round trip):
 * through the process's FIFO in front of the lock (the local gate) — where the previous local
 * holder may hand the lock over — then one attempt in Redis, then, if it may wait, `RedisWaiter`;
 * a fair lock skips the gate. Ends with a handle, a timeout, or the lock given back when the
 * service closed meanwhile.
 */
export class LockAcquisition {
  private readonly startedAt = performance.now();

  constructor(
    private readonly steps: LockSteps,
    private readonly lock: LockRef,
    /** The lock whose handles this acquisition hands out. */
    private readonly holder: HoldOwner,
    private readonly request: AcquisitionRequest,
  ) {}

  run(): Promise<LockHandle | null> {
    const { steps, lock, request } = this;
    if (lock.fair) {
      return this.runFair();
    }
    // The gate records a watchdog lease as 0: such a waiter may take the lock on without Redis.
    const leaseInGate = request.leaseTime === undefined ? 0 : request.leaseMs;
    const entered = steps.queueLocally(lock.gateId, lock.owner, request.waitTime, leaseInGate);
    if (entered === false) {
      // In a promise step: `lock()` must reject, not throw.
      return Promise.resolve().then(() => this.timedOut());
    }
    if (entered !== true) {
      return entered.then(
        (grant) => {
          if (grant === false) {
            return this.timedOut();
          }
          if (grant === true) {
            return this.waitInRedis();
          }
          if (grant.carried) {
            // Handed over without telling Redis: the hold is this owner's already (see HeldLocks.handOver).
            return this.carriedHold(grant.carried);
          }
          // The previous local holder handed the lock over in its release: no round trip needed.
          return this.firstHold(grant.sentAt, grant.fencingToken);
        },
        // The gate only rejects its queue when the service closes; name this lock in the error.
        () => {
          throw steps.closedError(lock.name);
        },
      );
    }
    // Fast path: most acquisitions find the lock free at the first attempt, which needs neither
    // the waiter listing nor the waiting loop.
    return steps.attempt(
      { node: lock.node, keys: lock.keys, owner: lock.owner, leaseMs: request.leaseMs },
      (result) => {
        if (result.kind !== 'busy') {
          return this.firstHold(this.startedAt, result.fencingToken);
        }
        if (request.waitTime <= 0) {
          steps.leaveLocalQueue(lock.gateId, lock.owner);
          return this.timedOut();
        }
        return this.waitInRedis();
      },
      () => steps.leaveLocalQueue(lock.gateId, lock.owner),
    );
  }

  /** A fair lock: one attempt in line, or (if it may wait) queued in Redis. */
  private runFair(): Promise<LockHandle | null> {
    if (this.request.waitTime > 0) {
      return this.waitInRedis();
    }
    const { node, keys, owner } = this.lock;
    return this.steps.attempt({ node, keys, owner, leaseMs: this.request.leaseMs, fair: true }, (result) =>
      result.kind === 'busy' ? this.timedOut() : this.firstHold(this.startedAt, result.fencingToken),
    );
  }

  /** This owner holds the local gate (a fair lock: none) and the lock is busy: wait in Redis. */
  private waitInRedis(): Promise<LockHandle | null> {
    const { startedAt, request } = this;
    const deadline = startedAt + request.waitTime;
    const waiter = new RedisWaiter(this.steps, this.lock, { startedAt, deadline, leaseMs: request.leaseMs });
    return waiter.run().then((won) => (won === null ? this.timedOut() : this.wonInRedis(won)));
  }

  private wonInRedis(won: RedisWin): LockHandle | Promise<never> {
    if (won.kind === 'attempt') {
      // firstHold leaves the gate itself if the service closed while this attempt was in flight.
      return this.firstHold(won.sentAt, won.fencingToken);
    }
    // Granted straight from the queue with a short first lease (GRANT_LEASE_MS): recorded as if its
    // lease had been renewed just long enough ago to end with that one, and renewed to its own lease
    // at once (in the background; the critical section need not wait). If that renewal finds the
    // lock gone, the lost signal fires.
    const { leaseMs } = this.request;
    const firstLeaseMs = Math.min(leaseMs, GRANT_LEASE_MS);
    const handle = this.firstHold(won.busySentAt - (leaseMs - firstLeaseMs), won.fencingToken);
    const state = this.steps.holdOf(this.lock.gateId, this.lock.owner);
    if (!(handle instanceof Promise) && state) {
      this.steps.extendDirectGrant(state);
    }
    return handle;
  }

  /** Acquired: its handle, unless the service was closed meanwhile (then the lock is given back). */
  private firstHold(sentAt: number, fencingToken: number): LockHandle | Promise<never> {
    const { steps, lock } = this;
    if (!steps.isClosed) {
      steps.reportWait('lockAcquired', lock, this.startedAt);
      return handOut(steps, lock, this.holder, {
        sentAt,
        fencingToken,
        holdCount: 1,
        leaseTime: this.request.leaseTime,
      });
    }
    return steps
      .release({ node: lock.node, name: lock.name, owner: lock.owner })
      .catch(() => undefined)
      .then(() => {
        steps.leaveLocalQueue(lock.gateId, lock.owner);
        throw steps.closedError(lock.name);
      });
  }

  /** A hold handed over locally (already registered for this owner): its handle, unless the service closed meanwhile. */
  private carriedHold(state: HeldLock): LockHandle | Promise<never> {
    const { steps, lock } = this;
    if (steps.isClosed) {
      return steps
        .release({ node: lock.node, name: lock.name, owner: lock.owner, state })
        .catch(() => undefined)
        .then(() => {
          throw steps.closedError(lock.name);
        });
    }
    steps.reportWait('lockAcquired', lock, this.startedAt);
    return new ReentrantLockHandle(this.holder, state, state.fencingToken, 1);
  }

  private timedOut(): null {
    const { waitTime } = this.request;
    if (waitTime > 0) {
      this.steps.reportWait('lockTimedOut', this.lock, this.startedAt);
    }
    if (this.request.throwOnTimeout) {
      throw new LockTimeoutError(`Lock ${this.lock.name} stayed busy for ${waitTime} ms`, this.lock.name);
    }
    return null;
  }
}
