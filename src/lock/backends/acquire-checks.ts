import { LockUnavailableError } from '../lock.errors';
import { invalidAcquireOptions } from '../lock-options';
import type { AcquireOptions } from '../lock.types';

/** What every backend's `tryLock` checks before anything is sent: valid options, an open backend. */
export function assertCanAcquire(name: string, options: AcquireOptions, backendClosed: boolean): void {
  const invalid = invalidAcquireOptions(name, options);
  if (invalid) {
    throw invalid;
  }
  if (backendClosed) {
    throw new LockUnavailableError(`Lock backend is closed; ${name} was not acquired`, name);
  }
}
