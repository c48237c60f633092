import { holdCountOf } from './calls/acquire.call';
import type { HeldLock } from './held-lock';
import { gateKey } from './lock-keys';
import type { LockRef, LockSteps, VerifyMode } from './lock-steps';
import type { AcquireOptions, LockHandle, Lockable, ReplicaSync } from './lock.types';
import { invalidAcquireOptions, replicaSyncOf } from './lock-options';
import { LockAcquisition } from './lock-acquisition';
import { handOut } from './reentrant-lock.handle';

const NO_OPTIONS: AcquireOptions = Object.freeze({});

/**
 * Redisson-style reentrant lock on one Redis node. The owner is fixed when the object is created:
 * the current async call chain's owner (see `LockOwners`), or a fresh one outside any chain.
 * A first acquisition waits FIFO within the process and in Redis across processes
 * (`LockAcquisition`, `RedisWaiter`); a re-entry is one round trip. It reaches the engine only
 * through `LockSteps`.
 */
export class ReentrantLock implements Lockable {
  readonly node: number;
  /**
   * A fair lock (`LockService.getFairLock`): strict FIFO across every owner of every process —
   * each waiter queues in Redis itself (no in-process gate in front), and a free lock goes only to
   * the first live waiter in line. Slower on a hot key than the default, which lets a process hand
   * the lock to its own waiters for a bounded burst.
   */
  readonly fair: boolean;
  /** This lock as the engine's steps see it. */
  private readonly ref: LockRef;

  constructor(
    private readonly steps: LockSteps,
    readonly name: string,
    readonly owner: string,
    options: { node?: number; fair?: boolean } = {},
  ) {
    this.node = options.node ?? 0;
    this.fair = options.fair ?? false;
    const keys = steps.keys(name);
    this.ref = { node: this.node, name, keys, gateId: gateKey(this.node, keys.lock), owner, fair: this.fair };
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
    return options.replicaSync === undefined ? this.steps.replicaSync : replicaSyncOf(options.replicaSync);
  }

  /** A new hold is handed out once its replicas confirm it (re-entries were confirmed with the first hold). */
  private async replicated(handle: LockHandle, sync: Required<ReplicaSync>): Promise<LockHandle> {
    const state = this.steps.holdOf(this.ref.gateId, this.owner);
    if (!state) {
      return handle;
    }
    if (handle.holdCount === 1) {
      await this.steps.confirmReplicated(state, sync);
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
    const { steps } = this;
    const leaseMs = leaseTime === undefined ? steps.watchdogTimeoutMs : Math.ceil(leaseTime);
    const held = steps.holdOf(this.ref.gateId, this.owner);
    if (held !== undefined) {
      return this.reenter(held, leaseMs, leaseTime);
    }
    if (steps.isClosed) {
      return Promise.reject(steps.closedError(this.name));
    }
    return new LockAcquisition(steps, this.ref, this, { waitTime, leaseMs, leaseTime, throwOnTimeout }).run();
  }

  /** Re-entry: the hold count lives in Redis too, so it survives exactly as long as the lock. */
  private reenter(held: HeldLock, leaseMs: number, leaseTime: number | undefined): Promise<LockHandle> {
    if (held.lost) {
      return Promise.reject(held.lost);
    }
    const sentAt = performance.now();
    return this.steps.attempt(
      {
        node: this.node,
        keys: this.ref.keys,
        // The Redis field that carries the hold (another local owner's after local hand-overs).
        owner: held.heldAs,
        leaseMs: held.watchdog ? held.leaseMs : leaseMs,
        reenter: true,
      },
      (result) => {
        if (result.kind !== 'busy') {
          // A re-entry keeps the first acquisition's token.
          const grant = { sentAt, fencingToken: held.fencingToken, holdCount: holdCountOf(result), leaseTime };
          return handOut(this.steps, this.ref, this, grant);
        }
        throw this.steps.markLost(held);
      },
    );
  }

  /** Releases one hold of this owner; see `LockHandle.unlock`. */
  unlock(): Promise<void> {
    return this.steps.release({ node: this.node, name: this.name, owner: this.owner });
  }

  /**
   * Whether this owner holds the lock, asked of Redis (not the local bookkeeping). A hold handed
   * over locally is carried by the Redis field of the owner Redis granted it to.
   */
  isHeld(): Promise<boolean> {
    return this.steps.isHeld(this.ref);
  }

  /** Remaining lease in ms as Redis sees it; -2 if the lock is free. */
  remainingTtl(): Promise<number> {
    return this.steps.remainingTtl(this.ref);
  }

  /** @internal used by handles */
  assertHeld(state: HeldLock, mode?: VerifyMode): Promise<void> {
    return this.steps.verify(state, mode);
  }

  /** @internal used by handles: releases the hold recorded in `state`. */
  release(state: HeldLock): Promise<void> {
    return this.steps.release({ node: this.node, name: this.name, owner: this.owner, state });
  }

  /** Deletes the lock whoever holds it (administrative use: a stuck holder). */
  forceUnlock(): Promise<boolean> {
    return this.steps.forceRelease(this.node, this.name);
  }
}
