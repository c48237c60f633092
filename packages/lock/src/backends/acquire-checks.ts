import { LockUnavailableError } from '../lock.errors';
import { invalidAcquireOptions, InvalidLockOptionError } from '../lock-options';
import type { AcquireOptions } from '../lock.types';

/** What every backend's `tryLock` checks before anything is sent: valid options, an open backend. */
export function assertCanAcquire(name: string, options: AcquireOptions, backendClosed: boolean): void {
  const invalid = invalidAcquireOptions(name, options);
  if (invalid) {
    throw invalid;
  }
  if (options.replicaSync) {
    // Never silently weaker than asked: only the Redis lock can WAIT for replicas.
    throw new InvalidLockOptionError(`replicaSync is an option of Redis locks; ${name} is not one`, name);
  }
  if (backendClosed) {
    throw new LockUnavailableError(`Lock backend is closed; ${name} was not acquired`, name);
  }
}
