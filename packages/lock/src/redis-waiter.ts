import type { AcquireResult } from './calls/acquire.call';
import type { LockPubSub } from './lock-pubsub';
import type { LockRef, LockSteps } from './lock-steps';

/** Longest a Redis waiter sleeps between attempts when no release message arrives. */
const MAX_PARK_MS = 1000;
/**
 * How much longer than its next attempt is due a waiter stays listed in the queue: a process that
 * died drops out of it this soon after it stopped re-listing.
 */
const LISTING_GRACE_MS = 1000;

/** How a wait in Redis won the lock. */
export type RedisWin =
  /** An attempt found it free: a first hold whose lease counts from `sentAt`. */
  | { readonly kind: 'attempt'; readonly sentAt: number; readonly fencingToken: number }
  /**
   * A release granted it straight from the queue (also while giving up), with a short first lease
   * that ran from after `busySentAt`, the last attempt that found the lock busy.
   */
  | { readonly kind: 'queue'; readonly busySentAt: number; readonly fencingToken: number };

/** Resolves with `promise`'s value, or `undefined` after `ms`; rejects if it rejects first. */
function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One owner's wait for a lock in Redis, once it holds the local gate (or, for a fair lock, at once):
 * try, listing this process (or the fair lock's owner) in the lock's Redis queue; subscribe to the
 * release channel and try again; then park until a release message — a direct grant to this owner
 * from the release that found it first in line (no further round trip), or a release (try again)
 * — or at most `MAX_PARK_MS`, and retry. At the deadline it leaves the queue; however it ends, it
 * gives back what it took on the way (subscription, queue entry, local gate).
 */
export class RedisWaiter {
  /** When the last attempt that found the lock busy was sent: a later grant's lease ran from after it. */
  private busySentAt: number;
  /** Listed in the Redis queue (and not taken off it yet). */
  private queued = false;
  /** Redis confirmed the subscription to the release channel. */
  private subscribed = false;
  /** A subscription on its way (Redis has not confirmed it yet). */
  private subscribing?: Promise<boolean>;
  /** The wait is over: a subscription confirmed later must not register this owner for grants. */
  private finished = false;
  /** The wait ended with the lock. */
  private won = false;
  private readonly pubsub: LockPubSub;

  constructor(
    private readonly steps: LockSteps,
    private readonly lock: LockRef,
    private readonly wait: { startedAt: number; deadline: number; leaseMs: number },
  ) {
    this.busySentAt = wait.startedAt;
    this.pubsub = steps.pubsub(lock.node);
  }

  /** Waits until the lock is this owner's (how it was granted), or null at the deadline. */
  async run(): Promise<RedisWin | null> {
    try {
      for (;;) {
        this.refuseIfClosed();
        const version = this.pubsub.version(this.lock.keys.channel);
        const sentAt = performance.now();
        const result = await this.attempt(sentAt);
        if (result.kind !== 'busy') {
          return this.win({ kind: 'attempt', sentAt, fencingToken: result.fencingToken });
        }
        this.busySentAt = sentAt;
        this.queued = true;
        const remaining = this.wait.deadline - performance.now();
        if (remaining <= 0) {
          return await this.giveUp();
        }
        if (!this.subscribed) {
          // Subscribe, then try again at once: a release between the attempt and the subscription
          // would be missed.
          await this.subscribe(remaining);
          continue;
        }
        const granted = await this.park(result.ttlMs, version, remaining);
        if (granted !== undefined) {
          return this.win({ kind: 'queue', busySentAt: this.busySentAt, fencingToken: granted });
        }
      }
    } finally {
      await this.finish();
    }
  }

  /** One acquire attempt that, if busy, lists this process for a little longer than it may sleep before re-listing. */
  private attempt(sentAt: number): Promise<AcquireResult> {
    const { node, keys, owner, fair } = this.lock;
    const waiterTtlMs = Math.min(this.wait.deadline - sentAt, MAX_PARK_MS) + LISTING_GRACE_MS;
    return this.steps.attempt({ node, keys, owner, leaseMs: this.wait.leaseMs, waiterTtlMs, fair }, (value) => value);
  }

  /**
   * Subscribes to the release channel. A subscription Redis does not confirm in time (a frozen
   * server, a half-open socket) must not hold the waiter past its wait: it tries again meanwhile,
   * at most a park apart.
   */
  private async subscribe(remaining: number): Promise<void> {
    const { pubsub } = this;
    const { channel } = this.lock.keys;
    this.subscribing ??= pubsub.acquire(channel).then(
      () => {
        if (!this.finished) {
          pubsub.expect(channel, this.lock.owner);
        }
        return (this.subscribed = true);
      },
      (error: unknown) => {
        this.subscribing = undefined;
        throw this.steps.isClosed ? this.steps.closedError(this.lock.name) : error;
      },
    );
    await raceTimeout(this.subscribing, Math.min(remaining, MAX_PARK_MS));
  }

  /**
   * Parks until a release message or a timeout, and returns the token of a direct grant to this
   * owner if one came. The message is the wake-up; the timer only bounds what a missed one costs —
   * never a whole watchdog lease (30 s).
   */
  private async park(ttlMs: number, version: number, remaining: number): Promise<number | undefined> {
    // ttlMs is 0 when the lock has no TTL.
    const ttl = ttlMs > 0 ? ttlMs : remaining;
    // Closed while this waiter was not listening for the wake-up.
    this.refuseIfClosed();
    const { channel } = this.lock.keys;
    await this.pubsub.waitForRelease(channel, version, Math.min(ttl, remaining, MAX_PARK_MS));
    return this.pubsub.takeGrant(channel, this.lock.owner);
  }

  /** At the deadline: off the queue — unless a release granted this owner the lock meanwhile (then it is its). */
  private async giveUp(): Promise<RedisWin | null> {
    this.queued = false;
    const token = await this.steps.leaveQueue(this.lock);
    return token === 0 ? null : this.win({ kind: 'queue', busySentAt: this.busySentAt, fencingToken: token });
  }

  private win(how: RedisWin): RedisWin {
    this.won = true;
    return how;
  }

  private refuseIfClosed(): void {
    if (this.steps.isClosed) {
      throw this.steps.closedError(this.lock.name);
    }
  }

  /** However the wait ended: the subscription goes; without the lock, the queue entry and the local gate too. */
  private async finish(): Promise<void> {
    this.finished = true;
    const { pubsub } = this;
    const { node, name, keys, gateId, owner } = this.lock;
    if (this.subscribed) {
      pubsub.unexpect(keys.channel, owner);
      pubsub.release(keys.channel);
    } else if (this.subscribing) {
      // Confirmed after this waiter stopped waiting: give the subscription back then.
      this.subscribing.then(
        () => pubsub.release(keys.channel),
        () => undefined,
      );
    }
    if (this.won) {
      return;
    }
    if (this.queued) {
      // Stopped waiting otherwise than by the deadline (the service closed, Redis failed): off the
      // queue, so no release grants the lock to an owner that no longer waits — or, if one already
      // did, give it back. Awaited: a retry by the same owner must not meet a give-back still in
      // flight, which would release the retry's hold.
      await this.steps
        .leaveQueue(this.lock)
        .then((token) => (token > 0 ? this.steps.release({ node, name, owner }) : undefined))
        .catch(() => undefined);
    }
    this.steps.leaveLocalQueue(gateId, owner);
  }
}
