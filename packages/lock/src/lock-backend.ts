import type { LockAcquiredEvent, LockLostEvent, LockReleasedEvent, LockTimedOutEvent, Lockable } from './lock.types';

/** Where a backend reports what happens to its locks: the service's events (`onLockLost`, …). */
export interface LockBackendEvents {
  acquired(event: LockAcquiredEvent): void;
  timedOut(event: LockTimedOutEvent): void;
  released(event: LockReleasedEvent): void;
  lost(event: LockLostEvent): void;
}

/** Reports nothing (a backend used without a LockService). */
export const NO_LOCK_EVENTS: LockBackendEvents = {
  acquired: () => undefined,
  timedOut: () => undefined,
  released: () => undefined,
  lost: () => undefined,
};

/**
 * A store of locks other than the built-in Redis one (MySQL, ZooKeeper, …), chosen per call with
 * `{ backend: kind }`. What every backend promises — and what the contract suite
 * (`test/integration/lock/backend-contract.spec.ts`) checks against each, Redis included:
 *
 * - `tryLock` / `lock` with `waitTime` (`null` / `LockTimeoutError` when it stays busy);
 * - mutual exclusion across processes; release by the owner only (`unlock` of a hold that is not
 *   this owner's rejects and changes nothing);
 * - a lease or a session: a holder that dies is freed by itself, without anyone's help;
 * - a fencing token per grant, strictly increasing per lock name;
 * - the lost-lock signal: `signal` aborts with `LockLostError` when the hold is gone while held;
 * - reentrancy per async owner: the same owner re-enters (hold count), another owner waits.
 *
 * The service passes the owner id of the current async call chain (the same ids the Redis locks
 * use), so `withLock` nests across backends as it does on Redis.
 */
export interface LockBackend {
  /** The name callers choose it by (`withLock(name, { backend: 'mysql-table' }, …)`). */
  readonly kind: string;
  /** The lock `name` as held by `owner`. */
  getLock(name: string, owner: string): Lockable;
  /** Called once by the LockService it is given to: from then on its locks' events are the service's. */
  attach?(events: LockBackendEvents): void;
  /** Stops its timers and ends its waits; held locks end with their lease or session. */
  close(): Promise<void>;
}

/** The built-in backend's kind: Redis, the default. */
export const REDIS_BACKEND = 'redis';
