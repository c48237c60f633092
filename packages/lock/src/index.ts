/**
 * The lock library's core entry (no framework), what a Redis user needs: named reentrant locks on
 * Redis with a watchdog, pub/sub waiting, fencing tokens and a lost-lock signal; MultiLock and
 * RedLock over independent nodes; `withLock`; the errors and the fencing helpers. The NestJS module
 * and `@DistributedLock` are in `./nest`, the MySQL and ZooKeeper backends in `./mysql` and
 * `./zookeeper`, the script runner and the structural Redis client types in `./lua`.
 */
export { LockService, type LockServiceOptions, type LockExecutor, type WithLockOptions } from './lock.service';
export type { ReentrantLock } from './reentrant-lock';
export type { MultiLock } from './multi-lock';
export type { RedLock, RedLockOptions } from './red-lock';
export type { VerifyMode } from './lock-steps';
export type {
  AcquireOptions,
  LockAcquiredEvent,
  LockContext,
  LockHandle,
  LockLostEvent,
  LockReleasedEvent,
  LockTimedOutEvent,
  Lockable,
  ReplicaSync,
} from './lock.types';
export {
  InvalidLockKeyError,
  LockError,
  LockInsideTransactionError,
  LockLostError,
  LockNotHeldError,
  LockNotReplicatedError,
  LockTimeoutError,
  LockUnavailableError,
} from './lock.errors';
export { InvalidLockOptionError } from './lock-options';
export { StaleFencingTokenError, assertFencedWrite, fencedUpdate, type FencedUpdate } from './fencing';
export { REDIS_BACKEND, type LockBackend } from './lock-backend';
export { LocalLockService } from './local-lock.service';
