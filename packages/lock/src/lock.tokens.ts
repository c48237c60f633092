/** Injection token of the `LockExecutor` used by `@DistributedLock` (Redis, or the local mutex in LOCK_MODE=local). */
export const LOCK_EXECUTOR = Symbol('LOCK_EXECUTOR');

/** Optional injection token of a `LockTransactionBridge` (provided by the app's database layer). */
export const LOCK_TRANSACTION_BRIDGE = Symbol('LOCK_TRANSACTION_BRIDGE');

/**
 * How the lock library sees the app's transactions, without depending on an ORM:
 * `@DistributedLock` opens the transaction inside the lock and commits it before releasing.
 */
export interface LockTransactionBridge {
  /** True when the current async context already runs inside a transaction. */
  isActive(): boolean;
  /** Runs `fn` in a new transaction: commit when it resolves, roll back when it rejects. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}
