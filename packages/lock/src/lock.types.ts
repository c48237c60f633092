/** Options for one acquisition. */
export interface AcquireOptions {
  /**
   * How long to wait for a busy lock, in ms. `tryLock` defaults to 0 (one attempt);
   * `lock` defaults to waiting forever.
   */
  waitTime?: number;
  /**
   * Fixed lease in ms: the lock expires on its own after this long and is not renewed.
   * Omit it to get a watchdog lease (`watchdogTimeoutMs`, renewed every third of it while held).
   */
  leaseTime?: number;
  /**
   * Replica-safe grant (like Redisson's `checkLockSyncedSlaves`): a new hold counts only once
   * `replicas` replicas of the lock's master confirm it (`WAIT`), within `timeoutMs` (default 1000);
   * otherwise it is given back and the call rejects with `LockNotReplicatedError`. Overrides the
   * service's `replicaSync`; `false` turns it off for this call.
   */
  replicaSync?: ReplicaSync | false;
}

/** How many replicas must confirm a grant, and how long to wait for them (`WAIT replicas timeoutMs`). */
export interface ReplicaSync {
  replicas: number;
  timeoutMs?: number;
}

/** What a critical section gets: fires `signal` if the lock is lost; `fencingToken` for writes. */
export interface LockContext {
  /** Aborted (with a `LockLostError` as reason) when the lock is lost while held. */
  signal: AbortSignal;
  /**
   * Strictly increasing per lock name across acquisitions; pass it to the resource you write so it
   * can reject a stale holder (see `fencedUpdate`). Re-entries reuse the first token.
   */
  fencingToken: number;
  /**
   * Rejects with `LockLostError` unless the lock is still held by this owner. Call it right before
   * an irreversible step such as a commit. `redis` (default) asks Redis (and extends the lease);
   * `lease` answers without a round trip while the last confirmed renewal is younger than the
   * lease minus a safety margin (catches expiry after a pause, not an admin's deletion).
   */
  assertHeld(mode?: 'redis' | 'lease'): Promise<void>;
}

/** A held lock. `unlock()` releases one hold (reentrant locks are released at hold count zero). */
export interface LockHandle extends LockContext {
  readonly name: string;
  /** Hold count after this acquisition (1 for a first acquisition). */
  readonly holdCount: number;
  /**
   * Releases this hold. Rejects with `LockLostError` if the lock was lost while held (the critical
   * section may have overlapped another owner's), `LockNotHeldError` if it was never held.
   */
  unlock(): Promise<void>;
}

/** Anything that can be locked: a single reentrant lock, a MultiLock, a RedLock. */
export interface Lockable {
  readonly name: string;
  /** Resolves with a handle, or null if the lock stayed busy for `waitTime`. */
  tryLock(options?: AcquireOptions): Promise<LockHandle | null>;
  /** Like `tryLock` but waits forever by default and rejects with `LockTimeoutError` on timeout. */
  lock(options?: AcquireOptions): Promise<LockHandle>;
}

/** Emitted as `lockAcquired` for every first acquisition (not re-entries) of a single-node lock. */
export interface LockAcquiredEvent {
  name: string;
  owner: string;
  /** From the call to the grant, queueing in the process and waiting in Redis included. */
  waitedMs: number;
  /** The backend's kind; absent for Redis locks. */
  backend?: string;
}

/** Emitted as `lockTimedOut` when a wait (`waitTime` > 0) ended without the lock. */
export interface LockTimedOutEvent {
  name: string;
  owner: string;
  waitedMs: number;
  /** The backend's kind; absent for Redis locks. */
  backend?: string;
}

/** Emitted as `lockReleased` when a lock is fully released (hold count zero). */
export interface LockReleasedEvent {
  name: string;
  owner: string;
  /** The backend's kind; absent for Redis locks. */
  backend?: string;
}

/** Emitted as `lockLost` by the LockService. */
export interface LockLostEvent {
  name: string;
  owner: string;
  /**
   * `session-ended` and `backend-unreachable` come from the other backends: a MySQL session or a
   * ZooKeeper session that ended (or must be presumed ended) under a hold; a store that stayed
   * unreachable for a whole lease.
   */
  reason: 'expired-or-taken' | 'redis-unreachable' | 'lease-elapsed' | 'session-ended' | 'backend-unreachable';
  /** The backend's kind; absent for Redis locks. */
  backend?: string;
}
