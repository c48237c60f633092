import { LockTimeoutError } from './lock.errors';
import type { AcquireOptions, LockHandle, Lockable } from './lock.types';

/**
 * `lock()` for a lock whose `tryLock()` does the waiting: waits forever unless `waitTime` is given,
 * and turns "still busy" into `LockTimeoutError` (`label` names the kind of lock in the message).
 */
export async function lockFromTryLock(
  lockable: Lockable,
  label: string,
  options: AcquireOptions = {},
): Promise<LockHandle> {
  const handle = await lockable.tryLock({ ...options, waitTime: options.waitTime ?? Number.POSITIVE_INFINITY });
  if (!handle) {
    throw new LockTimeoutError(`${label} ${lockable.name} stayed busy for ${options.waitTime} ms`, lockable.name);
  }
  return handle;
}
