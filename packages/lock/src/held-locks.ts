import { firstHoldOf, mayHandOverLocally, successorOf, type Grant, type HeldLock } from './held-lock';
import type { HandedOver, LocalGate } from './local-gate';
import { LockLostError } from './lock.errors';
import type { LockLostEvent } from './lock.types';
import { inNeutralContext } from './neutral-context';
import { HeldLockRegistry } from './held-lock-registry';

/** The writable form of a hold: only this file writes a HeldLock (everyone else reads its read-only view). */
type HoldRecord = { -readonly [K in keyof HeldLock]: HeldLock[K] };
const record = (state: HeldLock) => state as HoldRecord;

/** What the registry needs from the engine around it. */
export interface HeldLocksOptions {
  gate: LocalGate;
  watchdogTimeoutMs: number;
  logger?: { warn(message: string): void };
  /** Emits `lockLost` in a neutral async context (the engine's `emitNeutral`): no listener runs as the losing owner. */
  emitLost(event: LockLostEvent): void;
  /** A watchdog-leased hold was entered: the renewal loop must run. */
  watchdogNeeded(): void;
  /** A hand-over reached a waiter that gave up meanwhile: release the lock for it. */
  releaseOrphan(state: HeldLock, owner: string): void;
}

/**
 * The locks this process holds (the lookups: `HeldLockRegistry`), and the only writer of a hold's
 * state: a hold is entered (`enter`), renewed, released, handed over, left (`leave`) and lost
 * (`markLost`) here and nowhere else — `HeldLock` is read-only to everyone else.
 */
export class HeldLocks extends HeldLockRegistry {
  constructor(private readonly options: HeldLocksOptions) {
    super();
  }

  /** Records a successful acquisition (first or re-entry) and returns its state. */
  enter(grant: Grant): HeldLock {
    const { gateId, owner, sentAt, leaseTime } = grant;
    let state = this.held.get(gateId);
    if (state === undefined || state.owner !== owner) {
      if (state !== undefined) {
        // Redis gave this lock to another owner, so the registered holder has lost it (a RedLock
        // part, or a holder whose key expired): tell it now, not at its unlock.
        this.markLost(state, 'expired-or-taken');
      }
      state = firstHoldOf(grant, this.options.watchdogTimeoutMs);
      this.held.set(gateId, state);
    } else {
      const entered = record(state);
      entered.count = grant.holdCount;
      entered.lastRenewedAt = sentAt;
      // A re-entry keeps the lock's mode: a watchdog lock stays renewed, a fixed lease takes the new length.
      if (leaseTime !== undefined && !state.watchdog) {
        entered.leaseMs = leaseTime;
      }
    }
    if (state.watchdog) {
      this.options.watchdogNeeded();
    } else {
      this.armLeaseTimer(state);
    }
    return state;
  }

  /** A fixed lease ends on its own in Redis; tell the holder when it may be gone (counted from the request). */
  private armLeaseTimer(state: HeldLock): void {
    clearTimeout(state.leaseTimer);
    const left = state.leaseMs - (performance.now() - state.lastRenewedAt);
    const timer = inNeutralContext(() => setTimeout(() => this.markLost(state, 'lease-elapsed'), Math.max(0, left)));
    timer.unref();
    record(state).leaseTimer = timer;
  }

  /**
   * A release granted the hold straight from the Redis queue with a short first lease: lost when
   * that lease ends, unless a renewal lands before (`renewed` re-arms or clears this timer) — a
   * watchdog hold would otherwise learn of a failed renewal only at the watchdog's next tick.
   */
  awaitRenewal(state: HeldLock): void {
    record(state).awaitingRenewal = true;
    this.armLeaseTimer(state);
  }

  /**
   * A renewal (or check) sent at `sentAt` for `sent` succeeded: the lease of whoever carries that
   * hold now runs from then — unless it was released (or replaced) meanwhile.
   */
  renewed(sent: HeldLock, sentAt: number): void {
    const state = this.carrierOf(sent);
    if (state === undefined) {
      return;
    }
    record(state).lastRenewedAt = sentAt;
    record(state).awaitingRenewal = false;
    if (!state.watchdog) {
      // renew.lua extended the fixed lease too.
      this.armLeaseTimer(state);
    } else {
      // A direct grant's first-lease timer (see `awaitRenewal`): the watchdog has it now.
      clearTimeout(state.leaseTimer);
    }
  }

  /**
   * Whether `state`'s final release may pass the lock to the next local waiter without telling
   * Redis: `state` is the registered hold and `mayHandOverLocally` allows it.
   */
  canHandOver(state: HeldLock, next: { leaseMs: number }, burstLimit: number): boolean {
    return this.isCurrent(state) && mayHandOverLocally(state, next, burstLimit);
  }

  /**
   * A final release handed to the next local waiter `to` without a round trip: the hold moves to
   * `to`'s new state at once (the watchdog renews it from here on), with the next token of this
   * Redis grant, and the gate passes to `to` with it.
   */
  handOver(state: HeldLock, to: string): HeldLock {
    clearTimeout(state.leaseTimer);
    const successor = successorOf(state, to);
    this.held.set(state.gateId, successor);
    if (successor.awaitingRenewal) {
      // The first lease of a direct grant still runs out unless its renewal lands (for this hold now).
      this.armLeaseTimer(successor);
    }
    this.options.gate.leave(state.gateId, state.owner, {
      to,
      fencingToken: successor.fencingToken,
      sentAt: successor.lastRenewedAt,
      carried: successor,
    });
    return successor;
  }

  /**
   * The hold is over (released, or given up): its state goes, and with it its place in the gate —
   * which passes the lock on to the next local waiter if `handover` says Redis already did.
   */
  leave(state: HeldLock, handover?: HandedOver & { to: string }): void {
    clearTimeout(state.leaseTimer);
    let orphan = handover?.to;
    if (this.held.get(state.gateId) === state) {
      this.held.delete(state.gateId);
    }
    // Unless a newer hold of this owner is registered, its gate place goes too (also when this
    // state was replaced while being released: its markLost could not leave the gate then).
    if (this.of(state.gateId, state.owner) === undefined) {
      orphan = this.options.gate.leave(state.gateId, state.owner, handover);
    }
    if (orphan) {
      // Handed to a waiter that gave up meanwhile: release it for them so the lock does not sit idle.
      this.options.releaseOrphan(state, orphan);
    }
  }

  /** Marks a held lock lost (once): aborts its signal, logs, emits `lockLost`. Returns the error. */
  markLost(state: HeldLock, reason: LockLostEvent['reason']): LockLostError {
    if (state.lost) {
      return state.lost;
    }
    if (state.releasing) {
      return new LockLostError(`Lock ${state.name} is being released`, state.name);
    }
    clearTimeout(state.leaseTimer);
    const lost = new LockLostError(`Lock ${state.name} was lost (${reason})`, state.name);
    record(state).lost = lost;
    record(state).watchdog = false;
    this.options.logger?.warn(`Lock ${state.name} lost by ${state.owner}: ${reason}`);
    // The lost holder no longer holds anything: let the next local waiter compete in Redis.
    this.options.gate.leave(state.gateId, state.owner);
    state.controller?.abort(lost);
    try {
      this.options.emitLost({ name: state.name, owner: state.owner, reason });
    } catch (error) {
      // A listener's bug must not turn a lost lock into a crash.
      this.options.logger?.warn(`lockLost listener failed: ${String(error)}`);
    }
    return lost;
  }

  /** Marks the hold lost (see `markLost`, also while its release is under way) and leaves it; returns the error. */
  markLostAndLeave(state: HeldLock, reason: LockLostEvent['reason']): LockLostError {
    record(state).releasing = false;
    const lost = this.markLost(state, reason);
    this.leave(state);
    return lost;
  }

  /** A final release is under way: the watchdog no longer renews the hold, and a loss meanwhile is no news. */
  startRelease(state: HeldLock): void {
    record(state).releasing = true;
  }

  /** One re-entry was released in Redis: `holdCount` holds are left. */
  reentryReleased(state: HeldLock, holdCount: number): void {
    record(state).count = holdCount;
    record(state).releasing = false;
  }

  /**
   * A new hold's replica check (`replicaSync`): a re-entry made meanwhile waits for it (reads
   * `confirming`). Resolves or rejects as `confirmation` does.
   */
  async confirmWith(state: HeldLock, confirmation: Promise<void>): Promise<void> {
    record(state).confirming = confirmation;
    try {
      await confirmation;
    } finally {
      record(state).confirming = undefined;
    }
  }

  /** Shutdown: no lease timer fires any more. */
  clearTimers(): void {
    for (const state of this.held.values()) {
      clearTimeout(state.leaseTimer);
    }
  }
}

/** The AbortSignal of a held lock, created lazily; already aborted if the lock was lost. */
export function signalOf(state: HeldLock): AbortSignal {
  let controller = state.controller;
  if (!controller) {
    controller = new AbortController();
    record(state).controller = controller;
    if (state.lost) {
      controller.abort(state.lost);
    }
  }
  return controller.signal;
}
