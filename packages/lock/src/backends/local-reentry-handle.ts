import type { LockLostError } from '../lock.errors';
import { unlockOnce } from '../lock-handle';
import type { LockHandle } from '../lock.types';

/** A backend's hold whose re-entries are counted in the process only (the store holds it once). */
export interface LocallyCountedHold {
  holds: number;
  readonly fencingToken: number;
  readonly controller: AbortController;
  lost?: LockLostError;
}

/**
 * The handle of a hold re-entered locally (GET_LOCK, row lock, ZooKeeper): a lost hold answers
 * every check with its error; an inner unlock only counts down; the last one runs `releaseLast`.
 */
export function locallyCountedHandle(
  name: string,
  hold: LocallyCountedHold,
  steps: { check(mode: 'redis' | 'lease' | undefined): Promise<void>; releaseLast(): Promise<void> },
): LockHandle {
  return {
    name,
    holdCount: hold.holds,
    fencingToken: hold.fencingToken,
    signal: hold.controller.signal,
    assertHeld: async (mode) => {
      if (hold.lost) {
        throw hold.lost;
      }
      await steps.check(mode);
    },
    unlock: unlockOnce(name, async () => {
      if (hold.holds > 1) {
        hold.holds--;
        if (hold.lost) {
          throw hold.lost;
        }
        return;
      }
      await steps.releaseLast();
    }),
  };
}
