import { gateKey, HeldLock, heldKey, LockEngine, signalOf, type VerifyMode } from './lock-engine';
import { LockKeys } from './lock-keys';
import { LockTimeoutError } from './lock.errors';
import type { AcquireOptions, LockHandle, Lockable } from './lock.types';

/**
 * Redisson-style reentrant lock on one Redis node. The owner is fixed when the object is created:
 * the current async call chain's owner (see `LockOwners`), or a fresh one outside any chain.
 * Waiting is FIFO within the process and woken by pub/sub across processes.
 */
export class ReentrantLock implements Lockable {
  private readonly keys: LockKeys;
  private readonly gateId: string;
  private readonly heldId: string;

  constructor(
    private readonly engine: LockEngine,
    readonly name: string,
    readonly owner: string,
    readonly node = 0,
  ) {
    this.keys = engine.keys(name);
    this.gateId = gateKey(node, name);
    this.heldId = heldKey(node, name, owner);
  }

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    const waitTime = options.waitTime ?? 0;
    const leaseMs = Math.ceil(options.leaseTime ?? this.engine.watchdogTimeoutMs);
    const held = this.engine.heldLockById(this.heldId);
    if (held) {
      // Re-entry: the hold count lives in Redis too, so it survives exactly as long as the lock.
      const sentAt = performance.now();
      const lease = held.watchdog ? held.leaseMs : leaseMs;
      const reply = held.lost
        ? undefined
        : await this.engine.attempt(this.node, this.keys, this.owner, lease, { reenter: true });
      if (reply?.[0] === 1) {
        return this.handle(sentAt, reply[1], reply[2], options.leaseTime);
      }
      throw this.engine.markLost(held, 'expired-or-taken');
    }
    const deadline = performance.now() + waitTime;
    const gate = this.gateId;
    const entered = this.engine.gate.enter(gate, this.owner, waitTime, leaseMs);
    const grant = entered === true ? true : await entered;
    if (grant === false) {
      return null;
    }
    if (grant !== true) {
      // The previous local holder handed the lock over in its release: no round trip needed.
      return this.handle(grant.sentAt, grant.fencingToken, 1, options.leaseTime);
    }
    let acquired = false;
    let subscribed = false;
    const channel = this.keys.channel;
    const pubsub = waitTime > 0 ? this.engine.pubsub(this.node) : undefined;
    try {
      for (;;) {
        const version = pubsub?.version(channel) ?? 0;
        const sentAt = performance.now();
        // While waiting, list this process in Redis for a little longer than it may sleep.
        const waiterTtl = pubsub ? Math.min(deadline - sentAt, this.engine.watchdogTimeoutMs) + 1000 : 0;
        const reply = await this.engine.attempt(this.node, this.keys, this.owner, leaseMs, { waiterTtlMs: waiterTtl });
        if (reply[0] === 1) {
          acquired = true;
          return this.handle(sentAt, reply[1], reply[2], options.leaseTime);
        }
        const remaining = deadline - performance.now();
        if (!pubsub || remaining <= 0) {
          return null;
        }
        if (!subscribed) {
          // Subscribe, then try again at once: a release between the attempt and the subscription would be missed.
          await pubsub.acquire(channel);
          subscribed = true;
          continue;
        }
        const ttl = reply[1] > 0 ? reply[1] : remaining;
        await pubsub.waitForRelease(channel, version, Math.min(ttl, remaining));
      }
    } finally {
      if (subscribed) {
        pubsub?.release(channel);
      }
      if (!acquired) {
        this.engine.gate.leave(gate, this.owner);
      }
    }
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return this.tryLock({ ...options, waitTime: options.waitTime ?? Number.POSITIVE_INFINITY }).then((handle) => {
      if (!handle) {
        throw new LockTimeoutError(`Lock ${this.name} stayed busy for ${options.waitTime} ms`, this.name);
      }
      return handle;
    });
  }

  /** Releases one hold of this owner; see `LockHandle.unlock`. */
  unlock(): Promise<void> {
    return this.engine.release(this.node, this.name, this.owner, this.heldId);
  }

  /** Whether this owner holds the lock, asked of Redis (not the local bookkeeping). */
  async isHeld(): Promise<boolean> {
    return (await this.engine.node(this.node).hexists(this.keys.lock, this.owner)) === 1;
  }

  /** Remaining lease in ms as Redis sees it; -2 if the lock is free. */
  remainingTtl(): Promise<number> {
    return this.engine.node(this.node).pttl(this.keys.lock);
  }

  /** @internal used by handles */
  assertHeld(state: HeldLock, mode?: VerifyMode): Promise<void> {
    return this.engine.verify(state, mode);
  }

  /** Deletes the lock whoever holds it (administrative use: a stuck holder). */
  forceUnlock(): Promise<boolean> {
    return this.engine.forceRelease(this.node, this.name);
  }

  private handle(sentAt: number, fencingToken: number, holdCount: number, leaseTime: number | undefined): LockHandle {
    const state = this.engine.recordAcquired(
      sentAt,
      this.node,
      this.name,
      this.keys,
      this.owner,
      fencingToken,
      holdCount,
      leaseTime,
    );
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
      return Promise.resolve();
    }
    this.released = true;
    return this.lock.unlock();
  }
}
