import type { HeldLock } from './held-lock';
import { VacatingMap } from './vacating-map';

/**
 * The registry of the locks this process holds, one entry per (node, lock), and what can be looked
 * up in it. Redis lets one owner at a time hold a lock, so one entry per (node, lock) suffices; a
 * lost holder's state may be replaced by the next holder's while its handle still refers to it.
 * Entries are written by `HeldLocks` only.
 */
export class HeldLockRegistry {
  protected readonly held = new VacatingMap<string, HeldLock>();

  get size(): number {
    return this.held.size;
  }

  values(): IterableIterator<HeldLock> {
    return this.held.values();
  }

  /** Whatever state is registered for the lock (any owner's). */
  entry(gateId: string): HeldLock | undefined {
    return this.held.get(gateId);
  }

  /** This process's state of `owner`'s hold on a lock, if it holds it. */
  of(gateId: string, owner: string): HeldLock | undefined {
    const state = this.held.get(gateId);
    return state !== undefined && state.owner === owner ? state : undefined;
  }

  /** Whether `state` is the registered hold (not lost and replaced, not yet released). */
  isCurrent(state: HeldLock): boolean {
    return this.held.get(state.gateId) === state;
  }

  /**
   * The registered hold that carries on `state`'s hold in Redis: `state` itself, or the owner it was
   * handed to locally since (same Redis owner field, same Redis grant). A renewal or check sent for
   * `state` counts for that one.
   */
  carrierOf(state: HeldLock): HeldLock | undefined {
    const current = this.held.get(state.gateId);
    return current === state ||
      (current !== undefined && current.heldAs === state.heldAs && current.redisToken === state.redisToken)
      ? current
      : undefined;
  }

  /**
   * A registered hold of another owner carried by `owner`'s Redis field (handed over locally), not
   * lost: `owner` must neither take nor release that field meanwhile.
   */
  carriedFor(gateId: string, owner: string): HeldLock | undefined {
    const entry = this.held.get(gateId);
    return entry !== undefined && entry.heldAs === owner && entry.owner !== owner && !entry.lost ? entry : undefined;
  }
}
