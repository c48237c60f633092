import type { HandedOver, LocalGate } from './local-gate';
import { LOCAL_TOKENS } from './lua/local-tokens';
import { GRANT_LEASE_MS } from './lua/release.lua';
import type { LockKeys } from './lock-keys';
import { LockLostError } from './lock.errors';
import type { LockLostEvent } from './lock.types';
import { inNeutralContext } from './neutral-context';
import { VacatingMap } from './vacating-map';

/**
 * How long a confirmation by Redis (a grant, a hand-over, a renewal) lets holds be handed on in the
 * process without asking again. A hot lock goes to Redis every LOCAL_TOKENS hand-overs anyway; this
 * bounds slower chains.
 */
export const LOCAL_HANDOVER_MAX_AGE_MS = 1000;

/** The lease a hold counts on now: its own, or a direct grant's shorter first lease until it is extended. */
const leaseOf = (state: HeldLock) => (state.awaitingRenewal ? Math.min(state.leaseMs, GRANT_LEASE_MS) : state.leaseMs);

/**
 * How long ago Redis last confirmed the hold: since its last renewal, less the time a direct grant's
 * renewal time is set back by so that its lease ends with the first lease (ReentrantLock.directGrant).
 */
const confirmedAgo = (state: HeldLock) => performance.now() - state.lastRenewedAt - (state.leaseMs - leaseOf(state));

/** Local bookkeeping of one (node, lock, owner) held by this process. */
export interface HeldLock {
  /** Key of the lock in the held registry and the local gate (see `gateKey`). */
  gateId: string;
  node: number;
  name: string;
  owner: string;
  keys: LockKeys;
  count: number;
  fencingToken: number;
  /**
   * The owner field that carries this hold in Redis: `owner` itself, or — after local hand-overs
   * (see `handOver`) — the owner Redis granted the lock to, whose process passed it on since.
   */
  heldAs: string;
  /** The token Redis issued with that grant; `fencingToken` is it plus `localHandovers`. */
  redisToken: number;
  /** Hand-overs in this process since Redis last granted the lock (each took the next token). */
  localHandovers: number;
  /** A direct grant's short first lease not yet extended (ReentrantLock.directGrant): its lease timer runs. */
  awaitingRenewal: boolean;
  /** Created on first use: most critical sections never look at their signal. */
  controller?: AbortController;
  /** Renewed by the watchdog (no fixed lease). */
  watchdog: boolean;
  leaseMs: number;
  lastRenewedAt: number;
  leaseTimer?: NodeJS.Timeout;
  releasing: boolean;
  lost?: LockLostError;
  /** A first hold's replica check in flight (`replicaSync`): a re-entry meanwhile waits for it. */
  confirming?: Promise<void>;
}

/** A grant to record: a first hold or a re-entry. */
export interface Grant {
  gateId: string;
  node: number;
  name: string;
  keys: LockKeys;
  owner: string;
  /** When the granting request was sent: the lease counts from then. */
  sentAt: number;
  fencingToken: number;
  holdCount: number;
  /** A fixed lease; absent: a watchdog lease. */
  leaseTime?: number;
}

/** What the registry needs from the engine around it. */
export interface HeldLocksOptions {
  gate: LocalGate;
  watchdogTimeoutMs: number;
  logger?: { warn(message: string): void };
  /** Emits `lockLost` (already in a neutral context). */
  emitLost(event: LockLostEvent): void;
  /** A watchdog-leased hold was entered: the renewal loop must run. */
  watchdogNeeded(): void;
  /** A hand-over reached a waiter that gave up meanwhile: release the lock for it. */
  releaseOrphan(state: HeldLock, owner: string): void;
}

/**
 * The locks this process holds, one entry per (node, lock): where a hold is entered (`enter`), left
 * (`leave`) and lost (`markLost`) — and nowhere else. Redis lets one owner at a time hold a lock, so
 * one entry per (node, lock) suffices; a lost holder's state may be replaced by the next holder's
 * while its handle still refers to it.
 */
export class HeldLocks {
  private readonly held = new VacatingMap<string, HeldLock>();

  constructor(private readonly options: HeldLocksOptions) {}

  get size(): number {
    return this.held.size;
  }

  values(): IterableIterator<HeldLock> {
    return this.held.values();
  }

  /** Whatever state is registered for the lock (any owner's). */
  entry(gateId: string): HeldLock | undefined {
    return this.held.get(gateId);
  }

  /** This process's state of `owner`'s hold on a lock, if it holds it. */
  of(gateId: string, owner: string): HeldLock | undefined {
    const state = this.held.get(gateId);
    return state !== undefined && state.owner === owner ? state : undefined;
  }

  /** Whether `state` is the registered hold (not lost and replaced, not yet released). */
  isCurrent(state: HeldLock): boolean {
    return this.held.get(state.gateId) === state;
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
      state = {
        gateId,
        node: grant.node,
        name: grant.name,
        owner,
        keys: grant.keys,
        count: grant.holdCount,
        fencingToken: grant.fencingToken,
        heldAs: owner,
        redisToken: grant.fencingToken,
        localHandovers: 0,
        awaitingRenewal: false,
        watchdog: leaseTime === undefined,
        leaseMs: leaseTime ?? this.options.watchdogTimeoutMs,
        lastRenewedAt: sentAt,
        leaseTimer: undefined,
        controller: undefined,
        releasing: false,
        lost: undefined,
      };
      this.held.set(gateId, state);
    } else {
      state.count = grant.holdCount;
      state.lastRenewedAt = sentAt;
      // A re-entry keeps the lock's mode: a watchdog lock stays renewed, a fixed lease takes the new length.
      if (leaseTime !== undefined && !state.watchdog) {
        state.leaseMs = leaseTime;
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
  armLeaseTimer(state: HeldLock): void {
    clearTimeout(state.leaseTimer);
    const left = state.leaseMs - (performance.now() - state.lastRenewedAt);
    state.leaseTimer = inNeutralContext(() =>
      setTimeout(() => this.markLost(state, 'lease-elapsed'), Math.max(0, left)),
    );
    state.leaseTimer.unref();
  }

  /**
   * The registered hold that carries on `state`'s hold in Redis: `state` itself, or the owner it was
   * handed to locally since (same Redis owner field, same Redis grant). A renewal or check sent for
   * `state` counts for that one.
   */
  carrierOf(state: HeldLock): HeldLock | undefined {
    const current = this.held.get(state.gateId);
    return current === state ||
      (current !== undefined && current.heldAs === state.heldAs && current.redisToken === state.redisToken)
      ? current
      : undefined;
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
    state.lastRenewedAt = sentAt;
    state.awaitingRenewal = false;
    if (!state.watchdog) {
      // renew.lua extended the fixed lease too.
      this.armLeaseTimer(state);
    } else {
      // A direct grant's first-lease timer (see ReentrantLock.directGrant): the watchdog has it now.
      clearTimeout(state.leaseTimer);
    }
  }

  /**
   * Whether `state`'s final release may pass the lock to the next local waiter without telling
   * Redis: a watchdog hold (a fixed lease runs from its own acquisition, which Redis must see) to a
   * watchdog waiter, while tokens of this Redis grant are left (`LOCAL_TOKENS`), the burst allows
   * it, and Redis confirmed the hold recently: less than `LOCAL_HANDOVER_MAX_AGE_MS` (and half the
   * lease, or of a direct grant's first lease) ago. Otherwise the hand-over goes through Redis,
   * which answers whether the hold is still there — so after the key vanished (a forced release
   * elsewhere, a Redis restart) new sections start here for at most that long, and a hold whose
   * renewals fail is never passed on.
   */
  canHandOver(state: HeldLock, next: { leaseMs: number }, burstLimit: number): boolean {
    return (
      state.watchdog &&
      next.leaseMs === 0 &&
      state.localHandovers < burstLimit &&
      state.localHandovers < LOCAL_TOKENS &&
      this.held.get(state.gateId) === state &&
      confirmedAgo(state) < Math.min(leaseOf(state) / 2, LOCAL_HANDOVER_MAX_AGE_MS)
    );
  }

  /**
   * A registered hold of another owner carried by `owner`'s Redis field (handed over locally), not
   * lost: `owner` must neither take nor release that field meanwhile.
   */
  carriedFor(gateId: string, owner: string): HeldLock | undefined {
    const entry = this.held.get(gateId);
    return entry !== undefined && entry.heldAs === owner && entry.owner !== owner && !entry.lost ? entry : undefined;
  }

  /**
   * A final release handed to the next local waiter `to` without a round trip: the hold moves to
   * `to`'s new state at once (the watchdog renews it from here on), with the next token of this
   * Redis grant, and the gate passes to `to` with it.
   */
  handOver(state: HeldLock, to: string): HeldLock {
    clearTimeout(state.leaseTimer);
    const localHandovers = state.localHandovers + 1;
    // The same Redis hold (field, grant, lease, renewal time) under its new owner.
    const successor: HeldLock = {
      ...state,
      owner: to,
      count: 1,
      fencingToken: state.redisToken + localHandovers,
      localHandovers,
      leaseTimer: undefined,
      controller: undefined,
      releasing: false,
      lost: undefined,
      confirming: undefined,
    };
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
    state.lost = new LockLostError(`Lock ${state.name} was lost (${reason})`, state.name);
    state.watchdog = false;
    this.options.logger?.warn(`Lock ${state.name} lost by ${state.owner}: ${reason}`);
    // The lost holder no longer holds anything: let the next local waiter compete in Redis.
    this.options.gate.leave(state.gateId, state.owner);
    state.controller?.abort(state.lost);
    try {
      inNeutralContext(() => this.options.emitLost({ name: state.name, owner: state.owner, reason }));
    } catch (error) {
      // A listener's bug must not turn a lost lock into a crash.
      this.options.logger?.warn(`lockLost listener failed: ${String(error)}`);
    }
    return state.lost;
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
  if (!state.controller) {
    state.controller = new AbortController();
    if (state.lost) {
      state.controller.abort(state.lost);
    }
  }
  return state.controller.signal;
}
