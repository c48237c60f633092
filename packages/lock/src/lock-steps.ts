import type { AcquireResult } from './calls/acquire.call';
import type { Grant, HeldLock } from './held-lock';
import type { GateGrant } from './local-gate';
import type { LockKeys } from './lock-keys';
import type { LockPubSub } from './lock-pubsub';
import type { LockLostError, LockUnavailableError } from './lock.errors';
import type { ReplicaSync } from './lock.types';

/** An acquire attempt on one node. */
export interface AttemptRequest {
  node: number;
  keys: LockKeys;
  owner: string;
  leaseMs: number;
  /** The owner holds the lock already (never takes it anew). */
  reenter?: boolean;
  /** If busy, list this process as waiting for this long (0: do not). */
  waiterTtlMs?: number;
  /** A fair lock: the owner itself queues, and a free lock goes to the first in line only. */
  fair?: boolean;
}

/** One hold of `owner` to release (`state`: its bookkeeping, when the caller has it). */
export interface ReleaseRequest {
  node: number;
  name: string;
  owner: string;
  state?: HeldLock;
}

/**
 * How `assertHeld` decides: `redis` asks Redis (one round trip; also sees a lock deleted by an
 * admin or lost with a Redis restart); `lease` trusts a renewal younger than the lease minus a
 * margin and asks Redis only after that (sees expiry from pauses, not deletions).
 */
export type VerifyMode = 'redis' | 'lease';

/** One owner's lock on one node, as the steps that need no more than that see it. */
export interface LockRef {
  readonly node: number;
  readonly name: string;
  readonly keys: LockKeys;
  /** Its key in the process's registry and FIFO (`gateKey`). */
  readonly gateId: string;
  readonly owner: string;
  /** A fair lock queues its owner in Redis, the default lock its process. */
  readonly fair: boolean;
}

/**
 * What a Redis lock (`ReentrantLock`, its `RedisWaiter`, `RedLock`) needs of the engine, named by
 * what it does — not the engine's parts (gate, registry, watchdog, emitter): `LockEngine`
 * implements it, and the locks see no more of it.
 */
export interface LockSteps {
  /** The lease of a watchdog hold. */
  readonly watchdogTimeoutMs: number;
  /** The service's replica-safe grant setting, timeout filled in; undefined when off. */
  readonly replicaSync?: Required<ReplicaSync>;
  /** Whether the service is closed: new acquisitions and waits are refused with `closedError`. */
  readonly isClosed: boolean;
  closedError(name: string): LockUnavailableError;
  keys(name: string): LockKeys;

  /** This process's hold of `owner` on the lock (`gateKey`), if it has one. */
  holdOf(gateId: string, owner: string): HeldLock | undefined;
  /** Queues `owner` in the process's FIFO in front of the lock (`LocalGate.enter`). */
  queueLocally(gateId: string, owner: string, waitTime: number, leaseMs: number): Promise<GateGrant> | boolean;
  /** `owner` leaves the process's FIFO in front of the lock (the next local waiter moves up). */
  leaveLocalQueue(gateId: string, owner: string): void;

  /** One acquire attempt in Redis (see `LockAttempts.attempt`). */
  attempt<R>(
    request: AttemptRequest,
    onResult: (result: AcquireResult) => R | PromiseLike<R>,
    onError?: () => void,
  ): Promise<R>;
  /** Records a granted hold (a first hold or a re-entry) and returns its state. */
  hold(grant: Grant): HeldLock;
  /** A hold granted straight from the Redis queue (short first lease): renewed to its own lease at once. */
  extendDirectGrant(state: HeldLock): void;
  /** A new hold is handed out once `sync.replicas` replicas confirm it, or it is given back. */
  confirmReplicated(state: HeldLock, sync: Required<ReplicaSync>): Promise<void>;
  /** Checks in Redis (or by the lease, see `VerifyMode`) that `state` is still held. */
  verify(state: HeldLock, mode?: VerifyMode): Promise<void>;
  /** The hold was found expired or taken by another owner: marks it lost, returns the error. */
  markLost(state: HeldLock): LockLostError;
  /** Releases one hold (the final one passes the lock on, see `HoldReleaser`). */
  release(request: ReleaseRequest): Promise<void>;

  /** The release notifications of a node: what a waiter in Redis parks on. */
  pubsub(node: number): LockPubSub;
  /** A waiter that gives up leaves the Redis queue: 0, or the token if a release granted it the lock meanwhile. */
  leaveQueue(lock: LockRef): Promise<number>;

  /** Emits `event` for `lock` with the time waited since `startedAt`, if anyone listens. */
  reportWait(event: 'lockAcquired' | 'lockTimedOut', lock: LockRef, startedAt: number): void;

  /** Whether `lock`'s owner holds it, asked of Redis. */
  isHeld(lock: LockRef): Promise<boolean>;
  /** Remaining lease in ms as Redis sees it; -2 if the lock is free. */
  remainingTtl(lock: LockRef): Promise<number>;
  /** Deletes a lock whoever holds it (administrative). */
  forceRelease(node: number, name: string): Promise<boolean>;
}
