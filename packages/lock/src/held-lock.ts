import type { LockKeys } from './lock-keys';
import type { LockLostError } from './lock.errors';
import { LOCAL_TOKENS } from './lua/local-tokens';
import { GRANT_LEASE_MS } from './lua/release.lua';

/**
 * Local bookkeeping of one (node, lock, owner) held by this process, as everyone but its writer sees
 * it: read-only. `HeldLocks` (held-locks.ts) is the only writer; the others ask it by name
 * (`markLost`, `renewed`, `startRelease`, …).
 */
export interface HeldLock {
  /** Key of the lock in the held registry and the local gate (see `gateKey`). */
  readonly gateId: string;
  readonly node: number;
  readonly name: string;
  readonly owner: string;
  readonly keys: LockKeys;
  readonly count: number;
  readonly fencingToken: number;
  /**
   * The owner field that carries this hold in Redis: `owner` itself, or — after local hand-overs
   * (see `HeldLocks.handOver`) — the owner Redis granted the lock to, whose process passed it on since.
   */
  readonly heldAs: string;
  /** The token Redis issued with that grant; `fencingToken` is it plus `localHandovers`. */
  readonly redisToken: number;
  /** Hand-overs in this process since Redis last granted the lock (each took the next token). */
  readonly localHandovers: number;
  /** A direct grant's short first lease not yet extended (`HeldLocks.awaitRenewal`): its lease timer runs. */
  readonly awaitingRenewal: boolean;
  /** Created on first use: most critical sections never look at their signal. */
  readonly controller?: AbortController;
  /** Renewed by the watchdog (no fixed lease). */
  readonly watchdog: boolean;
  readonly leaseMs: number;
  readonly lastRenewedAt: number;
  readonly leaseTimer?: NodeJS.Timeout;
  readonly releasing: boolean;
  readonly lost?: LockLostError;
  /** A first hold's replica check in flight (`replicaSync`): a re-entry meanwhile waits for it. */
  readonly confirming?: Promise<void>;
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

/** The state of a first hold (`HeldLocks.enter` registers it). */
export function firstHoldOf(grant: Grant, watchdogTimeoutMs: number): HeldLock {
  return {
    gateId: grant.gateId,
    node: grant.node,
    name: grant.name,
    owner: grant.owner,
    keys: grant.keys,
    count: grant.holdCount,
    fencingToken: grant.fencingToken,
    heldAs: grant.owner,
    redisToken: grant.fencingToken,
    localHandovers: 0,
    awaitingRenewal: false,
    watchdog: grant.leaseTime === undefined,
    leaseMs: grant.leaseTime ?? watchdogTimeoutMs,
    lastRenewedAt: grant.sentAt,
    leaseTimer: undefined,
    controller: undefined,
    releasing: false,
    lost: undefined,
  };
}

/**
 * The same Redis hold (field, grant, lease, renewal time) under its next local owner `to`, with the
 * next token of that grant (`HeldLocks.handOver` registers it).
 */
export function successorOf(state: HeldLock, to: string): HeldLock {
  const localHandovers = state.localHandovers + 1;
  return {
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
}

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
 * renewal time is set back by so that its lease ends with the first lease (see `RedisWaiter`).
 */
const confirmedAgo = (state: HeldLock) => performance.now() - state.lastRenewedAt - (state.leaseMs - leaseOf(state));

/**
 * Whether a registered hold's final release may pass the lock to the next local waiter without
 * telling Redis: a watchdog hold (a fixed lease runs from its own acquisition, which Redis must see)
 * to a watchdog waiter, while tokens of this Redis grant are left (`LOCAL_TOKENS`), the burst allows
 * it, and Redis confirmed the hold recently: less than `LOCAL_HANDOVER_MAX_AGE_MS` (and half the
 * lease, or of a direct grant's first lease) ago. Otherwise the hand-over goes through Redis, which
 * answers whether the hold is still there — so after the key vanished (a forced release elsewhere,
 * a Redis restart) new sections start here for at most that long, and a hold whose renewals fail is
 * never passed on.
 */
export function mayHandOverLocally(state: HeldLock, next: { leaseMs: number }, burstLimit: number): boolean {
  return (
    state.watchdog &&
    next.leaseMs === 0 &&
    state.localHandovers < burstLimit &&
    state.localHandovers < LOCAL_TOKENS &&
    confirmedAgo(state) < Math.min(leaseOf(state) / 2, LOCAL_HANDOVER_MAX_AGE_MS)
  );
}
