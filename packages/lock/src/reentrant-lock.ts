/* eslint-disable max-lines -- acquire, waiting (local gate, Redis queue, pub/sub) and release in one
   class around HeldLock; issue 22 part 2 splits waiting into named steps and moves hold state to one
   owner. */
import type { HeldLock } from './held-lock';
import { signalOf } from './held-locks';
import { gateKey, LockEngine, replicaSyncOf, type VerifyMode } from './lock-engine';
import { holdCountOf } from './calls/acquire.call';
import { leaveQueue } from './calls/leave-queue.call';
import { GRANT_LEASE_MS } from './lua/release.lua';
import { alreadyReleased } from './lock-handle';
import { LockKeys } from './lock-keys';
import { LockTimeoutError, LockUnavailableError } from './lock.errors';
import type { AcquireOptions, LockHandle, Lockable, ReplicaSync } from './lock.types';
import { invalidAcquireOptions } from './lock-options';
import { inNeutralContext } from './neutral-context';

const NO_OPTIONS: AcquireOptions = Object.freeze({});
/** Longest a Redis waiter sleeps between attempts when no release message arrives. */
const MAX_PARK_MS = 1000;
/**
 * How much longer than its next attempt is due a waiter stays listed in the queue: a process that
 * died drops out of it this soon after it stopped re-listing.
 */
const LISTING_GRACE_MS = 1000;

/** Resolves with `promise`'s value, or `undefined` after `ms`; rejects if it rejects first. */
function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Redisson-style reentrant lock on one Redis node. The owner is fixed when the object is created:
 * the current async call chain's owner (see `LockOwners`), or a fresh one outside any chain.
 * Waiting is FIFO within the process and woken by pub/sub across processes.
 */
export class ReentrantLock implements Lockable {
  private readonly keys: LockKeys;
  private readonly gateId: string;
  readonly node: number;
  /**
   * A fair lock (`LockService.getFairLock`): strict FIFO across every owner of every process —
   * each waiter queues in Redis itself (no in-process gate in front), and a free lock goes only to
   * the first live waiter in line. Slower on a hot key than the default, which lets a process hand
   * the lock to its own waiters for a bounded burst.
   */
  readonly fair: boolean;

  constructor(
    private readonly engine: LockEngine,
    readonly name: string,
    readonly owner: string,
    options: { node?: number; fair?: boolean } = {},
  ) {
    this.node = options.node ?? 0;
    this.fair = options.fair ?? false;
    this.keys = engine.keys(name);
    this.gateId = gateKey(this.node, this.keys.lock);
  }

  tryLock(options: AcquireOptions = NO_OPTIONS): Promise<LockHandle | null> {
    const invalid = options === NO_OPTIONS ? undefined : invalidAcquireOptions(this.name, options);
    if (invalid) {
      return Promise.reject(invalid);
    }
    const sync = this.replicaSyncFor(options);
    const acquired = this.acquire(options.waitTime ?? 0, options.leaseTime, false);
    return sync ? acquired.then((handle) => handle && this.replicated(handle, sync)) : acquired;
  }

  lock(options: AcquireOptions = NO_OPTIONS): Promise<LockHandle> {
    const invalid = options === NO_OPTIONS ? undefined : invalidAcquireOptions(this.name, options);
    if (invalid) {
      return Promise.reject(invalid);
    }
    const sync = this.replicaSyncFor(options);
    const acquired = this.acquire(
      options.waitTime ?? Number.POSITIVE_INFINITY,
      options.leaseTime,
      true,
    ) as Promise<LockHandle>;
    return sync ? acquired.then((handle) => this.replicated(handle, sync)) : acquired;
  }

  /** The call's `replicaSync`, else the service's; undefined when off. */
  private replicaSyncFor(options: AcquireOptions): Required<ReplicaSync> | undefined {
    return options.replicaSync === undefined ? this.engine.replicaSync : replicaSyncOf(options.replicaSync);
  }

  /** A new hold is handed out once its replicas confirm it (re-entries were confirmed with the first hold). */
  private async replicated(handle: LockHandle, sync: Required<ReplicaSync>): Promise<LockHandle> {
    const state = this.engine.holds.of(this.gateId, this.owner);
    if (!state) {
      return handle;
    }
    if (handle.holdCount === 1) {
      await this.engine.holds.confirmWith(state, this.engine.confirmReplicated(state, sync));
    } else if (state.confirming) {
      // Re-entered while the first hold is still being confirmed: not confirmed until it is; if it
      // fails, this re-entry gives its own count back too.
      await state.confirming.catch(async (error: unknown) => {
        await handle.unlock().catch(() => undefined);
        throw error;
      });
    }
    return handle;
  }

  /** `tryLock` and `lock` in one, so `lock` costs no extra promise: a timeout is null or a LockTimeoutError. */
  private acquire(
    waitTime: number,
    leaseTime: number | undefined,
    throwOnTimeout: boolean,
  ): Promise<LockHandle | null> {
    const leaseMs = leaseTime === undefined ? this.engine.watchdogTimeoutMs : Math.ceil(leaseTime);
    const held = this.engine.holds.of(this.gateId, this.owner);
    if (held !== undefined) {
      return this.reenter(held, leaseMs, leaseTime);
    }
    if (this.engine.isClosed) {
      return Promise.reject(this.engine.closedError(this.name));
    }
    const startedAt = performance.now();
    if (this.fair) {
      return this.acquireFair(startedAt, waitTime, leaseMs, leaseTime).then(
        (handle) => handle ?? this.timedOut(startedAt, waitTime, throwOnTimeout),
      );
    }
    // The gate records a watchdog lease as 0: such a waiter may take the lock on without Redis.
    const entered = this.engine.gate.enter(this.gateId, this.owner, waitTime, leaseTime === undefined ? 0 : leaseMs);
    if (entered === false) {
      // In a promise step: `lock()` must reject, not throw.
      return Promise.resolve().then(() => this.timedOut(startedAt, waitTime, throwOnTimeout));
    }
    if (entered !== true) {
      return entered.then(
        (grant) => {
          if (grant === false) {
            return this.timedOut(startedAt, waitTime, throwOnTimeout);
          }
          if (grant === true) {
            return this.waitInRedis(startedAt, startedAt + waitTime, leaseMs, leaseTime).then(
              (handle) => handle ?? this.timedOut(startedAt, waitTime, throwOnTimeout),
            );
          }
          if (grant.carried) {
            // Handed over without telling Redis: the hold is this owner's already (see HeldLocks.handOver).
            return this.carriedHold(grant.carried, startedAt);
          }
          // The previous local holder handed the lock over in its release: no round trip needed.
          return this.firstHold(grant.sentAt, grant.fencingToken, leaseTime, startedAt);
        },
        // The gate only rejects its queue when the service closes; name this lock in the error.
        () => {
          throw this.engine.closedError(this.name);
        },
      );
    }
    // Fast path: most acquisitions find the lock free at the first attempt, which needs neither
    // the waiter listing nor the waiting loop.
    return this.engine.attempt(
      { node: this.node, keys: this.keys, owner: this.owner, leaseMs },
      (result) => {
        if (result.kind !== 'busy') {
          return this.firstHold(startedAt, result.fencingToken, leaseTime, startedAt);
        }
        if (waitTime <= 0) {
          this.engine.gate.leave(this.gateId, this.owner);
          return this.timedOut(startedAt, waitTime, throwOnTimeout);
        }
        return this.waitInRedis(startedAt, startedAt + waitTime, leaseMs, leaseTime).then(
          (handle) => handle ?? this.timedOut(startedAt, waitTime, throwOnTimeout),
        );
      },
      () => this.engine.gate.leave(this.gateId, this.owner),
    );
  }

  /** A fair lock's first acquisition: one attempt in line, then (if it may wait) queued in Redis. */
  private acquireFair(
    startedAt: number,
    waitTime: number,
    leaseMs: number,
    leaseTime: number | undefined,
  ): Promise<LockHandle | null> {
    if (waitTime > 0) {
      return this.waitInRedis(startedAt, startedAt + waitTime, leaseMs, leaseTime);
    }
    return this.engine.attempt(
      { node: this.node, keys: this.keys, owner: this.owner, leaseMs, fair: true },
      (result) =>
        result.kind === 'busy' ? null : this.firstHold(startedAt, result.fencingToken, leaseTime, startedAt),
    );
  }

  /** A first acquisition succeeded: its handle, unless the service was closed meanwhile (then it is given back). */
  private firstHold(
    sentAt: number,
    fencingToken: number,
    leaseTime: number | undefined,
    startedAt: number,
  ): LockHandle | Promise<never> {
    if (!this.engine.isClosed) {
      this.reportAcquired(startedAt);
      return this.handle(sentAt, fencingToken, 1, leaseTime);
    }
    return this.engine
      .release({ node: this.node, name: this.name, owner: this.owner })
      .catch(() => undefined)
      .then(() => {
        this.engine.gate.leave(this.gateId, this.owner);
        throw this.engine.closedError(this.name);
      });
  }

  /** A hold handed over locally (already registered for this owner): its handle, unless the service closed meanwhile. */
  private carriedHold(state: HeldLock, startedAt: number): LockHandle | Promise<never> {
    if (this.engine.isClosed) {
      return this.engine
        .release({ node: this.node, name: this.name, owner: this.owner, state })
        .catch(() => undefined)
        .then(() => {
          throw this.engine.closedError(this.name);
        });
    }
    this.reportAcquired(startedAt);
    return new ReentrantLockHandle(this, state, state.fencingToken, 1);
  }

  /** `lockAcquired` for a first hold, if anyone listens. */
  private reportAcquired(startedAt: number): void {
    if (this.engine.listenerCount('lockAcquired') > 0) {
      const event = { name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt };
      inNeutralContext(() => this.engine.emit('lockAcquired', event));
    }
  }

  private timedOut(startedAt: number, waitTime: number, throwOnTimeout: boolean): null {
    if (waitTime > 0 && this.engine.listenerCount('lockTimedOut') > 0) {
      const event = { name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt };
      inNeutralContext(() => this.engine.emit('lockTimedOut', event));
    }
    if (throwOnTimeout) {
      throw new LockTimeoutError(`Lock ${this.name} stayed busy for ${waitTime} ms`, this.name);
    }
    return null;
  }

  /** Re-entry: the hold count lives in Redis too, so it survives exactly as long as the lock. */
  private reenter(held: HeldLock, leaseMs: number, leaseTime: number | undefined): Promise<LockHandle> {
    if (held.lost) {
      return Promise.reject(held.lost);
    }
    const sentAt = performance.now();
    return this.engine.attempt(
      {
        node: this.node,
        keys: this.keys,
        // The Redis field that carries the hold (another local owner's after local hand-overs).
        owner: held.heldAs,
        leaseMs: held.watchdog ? held.leaseMs : leaseMs,
        reenter: true,
      },
      (result) => {
        if (result.kind !== 'busy') {
          // A re-entry keeps the first acquisition's token.
          return this.handle(sentAt, held.fencingToken, holdCountOf(result), leaseTime);
        }
        throw this.engine.holds.markLost(held, 'expired-or-taken');
      },
    );
  }

  /**
   * This owner holds the local gate and the lock is busy in Redis: queue this process (with this
   * owner) in Redis, subscribe to the release channel, and wait — for a direct grant from the
   * release that finds this process first in line (no further round trip), or for a release
   * message (then try again), or at most a park before trying (and re-listing) again.
   */
  private async waitInRedis(
    startedAt: number,
    deadline: number,
    leaseMs: number,
    leaseTime: number | undefined,
  ): Promise<LockHandle | null> {
    let acquired = false;
    let subscribed = false;
    /** When the last attempt that found the lock busy was sent: a later grant's lease ran from after it. */
    let busySentAt = startedAt;
    /** Listed in the Redis queue (and not taken off it yet). */
    let queued = false;
    /** The wait is over: a subscription confirmed later must not register this owner for grants. */
    let finished = false;
    /** A subscription on its way (Redis has not confirmed it yet). */
    let subscribing: Promise<boolean> | undefined;
    const channel = this.keys.channel;
    const pubsub = this.engine.pubsub(this.node);
    try {
      for (;;) {
        if (this.engine.isClosed) {
          throw this.engine.closedError(this.name);
        }
        const version = pubsub.version(channel);
        const sentAt = performance.now();
        // List this process in Redis for a little longer than it may sleep before re-listing.
        const waiterTtlMs = Math.min(deadline - sentAt, MAX_PARK_MS) + LISTING_GRACE_MS;
        const result = await this.engine.attempt(
          { node: this.node, keys: this.keys, owner: this.owner, leaseMs, waiterTtlMs, fair: this.fair },
          (value) => value,
        );
        if (result.kind !== 'busy') {
          // firstHold leaves the gate itself if the service closed while this attempt was in flight.
          acquired = true;
          return this.firstHold(sentAt, result.fencingToken, leaseTime, startedAt);
        }
        busySentAt = sentAt;
        queued = true;
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          queued = false;
          const token = await this.leaveQueue();
          if (token === 0) {
            return null;
          }
          // Granted while giving up: it is this owner's now.
          acquired = true;
          return this.directGrant({ busySentAt, fencingToken: token, leaseMs, leaseTime, startedAt });
        }
        if (!subscribed) {
          // Subscribe, then try again at once: a release between the attempt and the subscription
          // would be missed. A subscription Redis does not confirm in time (a frozen server, a
          // half-open socket) must not hold the waiter past its wait: it tries again meanwhile,
          // at most a park apart.
          subscribing ??= pubsub.acquire(channel).then(
            () => {
              if (!finished) {
                pubsub.expect(channel, this.owner);
              }
              return (subscribed = true);
            },
            (error: unknown) => {
              subscribing = undefined;
              throw this.engine.isClosed ? this.engine.closedError(this.name) : error;
            },
          );
          await raceTimeout(subscribing, Math.min(remaining, MAX_PARK_MS));
          continue;
        }
        // 0 when the lock has no TTL.
        const ttl = result.ttlMs > 0 ? result.ttlMs : remaining;
        if (this.engine.isClosed) {
          // Closed while this waiter was not listening for the wake-up.
          throw this.engine.closedError(this.name);
        }
        // The message is the wake-up; the timer only bounds what a missed one costs. Never park for
        // a whole watchdog lease (30 s): a lost notification would cost that much.
        await pubsub.waitForRelease(channel, version, Math.min(ttl, remaining, MAX_PARK_MS));
        const granted = pubsub.takeGrant(channel, this.owner);
        if (granted !== undefined) {
          acquired = true;
          return this.directGrant({ busySentAt, fencingToken: granted, leaseMs, leaseTime, startedAt });
        }
      }
    } finally {
      finished = true;
      if (subscribed) {
        pubsub.unexpect(channel, this.owner);
        pubsub.release(channel);
      } else if (subscribing) {
        // Confirmed after this waiter stopped waiting: give the subscription back then.
        subscribing.then(
          () => pubsub.release(channel),
          () => undefined,
        );
      }
      if (!acquired) {
        if (queued) {
          // Stopped waiting otherwise than by the deadline (the service closed, Redis failed): off the
          // queue, so no release grants the lock to an owner that no longer waits — or, if one
          // already did, give it back. Awaited: a retry by the same owner must not meet a give-back
          // still in flight, which would release the retry's hold.
          await this.leaveQueue()
            .then((token) =>
              token > 0 ? this.engine.release({ node: this.node, name: this.name, owner: this.owner }) : undefined,
            )
            .catch(() => undefined);
        }
        this.engine.gate.leave(this.gateId, this.owner);
      }
    }
  }

  /**
   * A release granted this owner the lock straight from the queue, with a short first lease
   * (GRANT_LEASE_MS): the hold is recorded as if its lease had been renewed just long enough ago to
   * end with that one, and is renewed to its own lease at once (in the background; the critical
   * section need not wait). If that renewal finds the lock gone, the lost signal fires.
   */
  private directGrant(grant: {
    /** When the last attempt that found the lock busy was sent (the grant came after it). */
    busySentAt: number;
    fencingToken: number;
    leaseMs: number;
    leaseTime: number | undefined;
    startedAt: number;
  }): LockHandle | Promise<never> {
    const { busySentAt, fencingToken, leaseMs, leaseTime, startedAt } = grant;
    const firstLeaseMs = Math.min(leaseMs, GRANT_LEASE_MS);
    const handle = this.firstHold(busySentAt - (leaseMs - firstLeaseMs), fencingToken, leaseTime, startedAt);
    const state = this.engine.holds.of(this.gateId, this.owner);
    if (!(handle instanceof Promise) && state) {
      this.engine.holds.awaitRenewal(state);
      this.engine.renewHold(state).catch(() => undefined);
    }
    return handle;
  }

  /** Leaves the Redis queue on giving up: 0, or the token if a release granted this owner the lock meanwhile. */
  private leaveQueue(): Promise<number> {
    return leaveQueue(
      this.engine.node(this.node),
      // A fair lock queues the owner itself; the default queues the process.
      { keys: this.keys, owner: this.owner, processId: this.fair ? this.owner : this.engine.owners.processId },
      (error) =>
        new LockUnavailableError(`Redis could not be reached to stop waiting for ${this.name}`, this.name, {
          cause: error,
        }),
    );
  }

  /** Releases one hold of this owner; see `LockHandle.unlock`. */
  unlock(): Promise<void> {
    return this.engine.release({ node: this.node, name: this.name, owner: this.owner });
  }

  /**
   * Whether this owner holds the lock, asked of Redis (not the local bookkeeping). A hold handed
   * over locally is carried by the Redis field of the owner Redis granted it to.
   */
  async isHeld(): Promise<boolean> {
    const entry = this.engine.holds.entry(this.gateId);
    if (entry !== undefined && entry.owner !== this.owner && entry.heldAs === this.owner) {
      // This owner's Redis field carries another local owner's hold now.
      return false;
    }
    if (entry?.owner === this.owner && entry.lost && entry.heldAs !== this.owner) {
      // A lost hold handed over locally: its field may be its first owner's anew.
      return false;
    }
    const heldAs = entry?.owner === this.owner ? entry.heldAs : this.owner;
    return (await this.engine.node(this.node).hexists(this.keys.lock, heldAs)) === 1;
  }

  /** Remaining lease in ms as Redis sees it; -2 if the lock is free. */
  remainingTtl(): Promise<number> {
    return this.engine.node(this.node).pttl(this.keys.lock);
  }

  /** @internal used by handles */
  assertHeld(state: HeldLock, mode?: VerifyMode): Promise<void> {
    return this.engine.verify(state, mode);
  }

  /** @internal used by handles: releases the hold recorded in `state`. */
  release(state: HeldLock): Promise<void> {
    return this.engine.release({ node: this.node, name: this.name, owner: this.owner, state });
  }

  /** Deletes the lock whoever holds it (administrative use: a stuck holder). */
  forceUnlock(): Promise<boolean> {
    return this.engine.forceRelease(this.node, this.name);
  }

  private handle(sentAt: number, fencingToken: number, holdCount: number, leaseTime: number | undefined): LockHandle {
    const state = this.engine.holds.enter({
      gateId: this.gateId,
      node: this.node,
      name: this.name,
      keys: this.keys,
      owner: this.owner,
      sentAt,
      fencingToken,
      holdCount,
      leaseTime,
    });
    return new ReentrantLockHandle(this, state, fencingToken, holdCount);
  }
}

/** A hold of a ReentrantLock; `signal` is created only when read. */
class ReentrantLockHandle implements LockHandle {
  private released = false;

  constructor(
    private readonly lock: ReentrantLock,
    private readonly state: HeldLock,
    readonly fencingToken: number,
    readonly holdCount: number,
  ) {}

  get name(): string {
    return this.lock.name;
  }

  get signal(): AbortSignal {
    return signalOf(this.state);
  }

  assertHeld(mode?: VerifyMode): Promise<void> {
    return this.lock.assertHeld(this.state, mode);
  }

  unlock(): Promise<void> {
    if (this.released) {
      return Promise.reject(alreadyReleased(this.name));
    }
    this.released = true;
    return this.lock.release(this.state);
  }
}
