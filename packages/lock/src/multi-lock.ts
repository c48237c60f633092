import type { AcquireOptions, LockHandle, Lockable } from './lock.types';
import { lockFromTryLock } from './lock-from-try-lock';
import { unlockOnce } from './lock-handle';

/** Combines the handles of several held locks into one. */
export function combineHandles(name: string, handles: LockHandle[]): LockHandle {
  return {
    name,
    fencingToken: Math.max(...handles.map((handle) => handle.fencingToken)),
    holdCount: Math.min(...handles.map((handle) => handle.holdCount)),
    signal: AbortSignal.any(handles.map((handle) => handle.signal)),
    assertHeld: async (mode) => {
      await Promise.all(handles.map((handle) => handle.assertHeld(mode)));
    },
    unlock: unlockOnce(name, async () => {
      const results = await Promise.allSettled(handles.map((handle) => handle.unlock()));
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) {
        throw failure.reason;
      }
    }),
  };
}

/**
 * All-or-nothing over several locks (several names, or one name on several independent nodes), as
 * Redisson's MultiLock: locks are taken in a fixed order; if one cannot be taken in the remaining
 * wait time, those already taken are released and the MultiLock fails.
 * `fencingToken` of the combined handle is the largest of its parts.
 */
export class MultiLock implements Lockable {
  readonly name: string;

  constructor(private readonly locks: Lockable[]) {
    if (locks.length === 0) {
      throw new Error('MultiLock needs at least one lock');
    }
    this.name = locks.map((lock) => lock.name).join('+');
  }

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    const deadline = performance.now() + (options.waitTime ?? 0);
    const acquired: LockHandle[] = [];
    try {
      for (const lock of this.locks) {
        const handle = await lock.tryLock({ ...options, waitTime: Math.max(0, deadline - performance.now()) });
        if (!handle) {
          await this.rollback(acquired);
          return null;
        }
        acquired.push(handle);
      }
    } catch (error) {
      await this.rollback(acquired);
      throw error;
    }
    return combineHandles(this.name, acquired);
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return lockFromTryLock(this, 'MultiLock', options);
  }

  private async rollback(handles: LockHandle[]): Promise<void> {
    await Promise.allSettled(handles.map((handle) => handle.unlock()));
  }
}
