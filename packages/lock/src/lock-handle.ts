import { LockNotHeldError } from './lock.errors';

/** What every handle's second `unlock()` rejects with: nothing is released twice. */
export const alreadyReleased = (name: string): LockNotHeldError =>
  new LockNotHeldError(`Lock ${name} was already released by this handle`, name);

/**
 * A handle's `unlock`: runs `release` once; any later call rejects with `LockNotHeldError` and
 * changes nothing (a second unlock must not give back a re-entry that another handle still holds).
 * Shared by every kind of lock, so they all answer a double unlock alike.
 */
export function unlockOnce(name: string, release: () => Promise<void>): () => Promise<void> {
  let released = false;
  return () => {
    if (released) {
      return Promise.reject(alreadyReleased(name));
    }
    released = true;
    return release();
  };
}
