/**
 * Errors of the lock library. They know nothing of HTTP; the app maps them in its exception filter.
 */
export class LockError extends Error {
  constructor(
    message: string,
    readonly lockName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The lock could not be acquired within `waitTime`. */
export class LockTimeoutError extends LockError {
  override readonly name = LockTimeoutError.name;
}

/** The lock was held but is no longer: its lease ran out, Redis lost it, or another owner has it. */
export class LockLostError extends LockError {
  override readonly name = LockLostError.name;
}

/** Release or check by an owner that does not hold the lock. Nothing was changed. */
export class LockNotHeldError extends LockError {
  override readonly name = LockNotHeldError.name;
}

/** Redis (or a quorum of RedLock nodes) could not be reached to take a decision. */
export class LockUnavailableError extends LockError {
  override readonly name = LockUnavailableError.name;
}

/**
 * A grant that too few replicas confirmed within the timeout (`replicaSync`): a failover now could
 * promote a replica without it and let a second owner in, so the grant was given back. Retry later.
 */
export class LockNotReplicatedError extends LockUnavailableError {
  override readonly name = LockNotReplicatedError.name;

  constructor(
    message: string,
    lockName: string,
    readonly acknowledged: number,
  ) {
    super(message, lockName);
  }
}

/** A lock name or a value filled into a key template is unusable (empty, too long, braces). */
export class InvalidLockKeyError extends LockError {
  override readonly name = InvalidLockKeyError.name;
}

/**
 * `@DistributedLock` was entered while a transaction was already open: releasing at method exit
 * would precede the outer commit. Put the lock outside the transaction (see README.md).
 */
export class LockInsideTransactionError extends LockError {
  override readonly name = LockInsideTransactionError.name;
}
