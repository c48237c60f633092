import { NO_LOCK_EVENTS, type LockBackendEvents } from '../lock-backend';
import { LockLostError } from '../lock.errors';
import type { LockLostEvent } from '../lock.types';
import { inNeutralContext } from '../neutral-context';

/** What every backend keeps of one owner's hold on one lock; `BackendHolds` alone writes these fields. */
export interface BackendHold {
  readonly name: string;
  readonly owner: string;
  readonly controller: AbortController;
  readonly leaseTimer?: NodeJS.Timeout;
  readonly lost?: LockLostError;
}

/** The writable form of the shared fields: only this file writes them. */
type BackendHoldRecord = { -readonly [K in keyof BackendHold]: BackendHold[K] };

/**
 * The holds of one non-Redis backend in this process, one per (lock, owner), and where they are
 * lost: the one place that turns a lost hold into its error, the log line, the aborted signal and
 * the service's `lockLost` event. `onLost` runs the backend's own step first (a session closes its
 * connection so the server frees what it held).
 */
export class BackendHolds<H extends BackendHold> {
  /** Where the locks' events go (the LockService's, once the backend is attached). */
  events: LockBackendEvents = NO_LOCK_EVENTS;
  private readonly holds = new Map<string, H>();

  constructor(
    private readonly options: {
      kind: string;
      logger?: { warn(message: string): void };
      onLost?: (hold: H) => void;
    },
  ) {}

  get(name: string, owner: string): H | undefined {
    return this.holds.get(holdKey(name, owner));
  }

  values(): IterableIterator<H> {
    return this.holds.values();
  }

  add(hold: H): void {
    this.holds.set(holdKey(hold.name, hold.owner), hold);
  }

  /** Whether `hold` is the registered hold of its lock and owner (not left, not replaced). */
  isCurrent(hold: H): boolean {
    return this.holds.get(holdKey(hold.name, hold.owner)) === hold;
  }

  /** A fixed lease the holder enforces: after `leaseMs`, `onElapsed` (which marks the hold lost, and more). */
  armLease(hold: H, leaseMs: number, onElapsed: () => void): void {
    (hold as BackendHoldRecord).leaseTimer = inNeutralContext(() => setTimeout(onElapsed, leaseMs).unref());
  }

  /** The hold is over: its lease timer stops and it leaves the registry (unless replaced meanwhile). */
  remove(hold: H): void {
    clearTimeout(hold.leaseTimer);
    if (this.isCurrent(hold)) {
      this.holds.delete(holdKey(hold.name, hold.owner));
    }
  }

  /** Marks `hold` lost, once; returns its error. */
  markLost(hold: H, reason: LockLostEvent['reason'], detail?: string): LockLostError {
    if (hold.lost) {
      return hold.lost;
    }
    clearTimeout(hold.leaseTimer);
    const why = detail ? `${reason}: ${detail}` : reason;
    const lost = new LockLostError(`Lock ${hold.name} was lost (${why})`, hold.name);
    (hold as BackendHoldRecord).lost = lost;
    this.options.logger?.warn(`Lock ${hold.name} (${this.options.kind}) lost by ${hold.owner}: ${why}`);
    this.options.onLost?.(hold);
    hold.controller.abort(lost);
    this.events.lost({ name: hold.name, owner: hold.owner, reason });
    return lost;
  }
}

const holdKey = (name: string, owner: string) => `${name}\u0000${owner}`;
