import type { AcquireOptions, ReplicaSync } from './lock.types';

/** Largest duration Node timers and Redis' PEXPIRE both take without overflow (2^31 − 1 ms, ~24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * An acquisition option out of range: `leaseTime` must be a whole number in 1..2^31−1 ms, `waitTime`
 * a number in 0..2^31−1 ms (or Infinity: wait forever). Nothing was sent to Redis.
 */
export class InvalidLockOptionError extends RangeError {
  override readonly name = InvalidLockOptionError.name;

  constructor(
    message: string,
    readonly lockName: string,
  ) {
    super(message);
  }
}

/**
 * Checks lease and wait times before any write: `Infinity`, `NaN` or 1e20 as a lease would leave a
 * lock with no TTL (the hash is written, PEXPIRE then fails), 0 or less would grant a lock that is
 * already gone, and above 2^31−1 the lease timer overflows. Returns the error, or undefined.
 */
export function invalidAcquireOptions(name: string, options: AcquireOptions): InvalidLockOptionError | undefined {
  const { leaseTime, waitTime } = options;
  if (leaseTime !== undefined && !(Number.isInteger(leaseTime) && leaseTime >= 1 && leaseTime <= MAX_DURATION_MS)) {
    return new InvalidLockOptionError(
      `leaseTime of lock ${name} must be a whole number of ms in 1..${MAX_DURATION_MS}, got ${String(leaseTime)}`,
      name,
    );
  }
  if (
    waitTime !== undefined &&
    !(typeof waitTime === 'number' && waitTime >= 0 && (waitTime <= MAX_DURATION_MS || waitTime === Infinity))
  ) {
    return new InvalidLockOptionError(
      `waitTime of lock ${name} must be a number of ms in 0..${MAX_DURATION_MS} or Infinity, got ${String(waitTime)}`,
      name,
    );
  }
  const sync = options.replicaSync;
  if (
    sync &&
    !(
      Number.isInteger(sync.replicas) &&
      sync.replicas >= 1 &&
      (sync.timeoutMs === undefined ||
        (Number.isInteger(sync.timeoutMs) && sync.timeoutMs >= 1 && sync.timeoutMs <= MAX_DURATION_MS))
    )
  ) {
    return new InvalidLockOptionError(
      `replicaSync of lock ${name} needs a whole number of replicas ≥ 1 and a timeoutMs in 1..${MAX_DURATION_MS} ` +
        `(WAIT 0 would wait forever), got ${JSON.stringify(sync)}`,
      name,
    );
  }
  return undefined;
}

/** How long a replica-safe grant waits for its replicas unless told otherwise. */
export const DEFAULT_REPLICA_SYNC_TIMEOUT_MS = 1000;

/** How much of a lease `assertHeld('lease')` does not trust (the renewal may be about to be late). */
export const leaseSafetyMargin = (leaseMs: number) => Math.max(1000, leaseMs / 10);

/** The replica-safe grant setting with its timeout filled in; undefined when off. */
export function replicaSyncOf(sync: ReplicaSync | false | undefined): Required<ReplicaSync> | undefined {
  return sync ? { replicas: sync.replicas, timeoutMs: sync.timeoutMs ?? DEFAULT_REPLICA_SYNC_TIMEOUT_MS } : undefined;
}
