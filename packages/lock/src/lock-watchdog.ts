import type { HeldLock } from './held-lock';
import type { HeldLocks } from './held-locks';
import { renewMany } from './calls/renew.call';
import type { LockRedisClient } from './redis-client';
import { inNeutralContext } from './neutral-context';

/**
 * One timer for every watchdog-leased lock of the process: every third of the lease it renews them
 * all, one pipeline (one round trip) per node, and signals loss for a lock Redis no longer holds
 * for this owner or that could not be renewed for a whole lease. It stops itself when nothing is held.
 */
export class LockWatchdog {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly options: {
      holds: HeldLocks;
      node: (index: number) => LockRedisClient;
      watchdogTimeoutMs: number;
    },
  ) {}

  /** Starts the renewal loop unless it runs (or the service closed). */
  ensure(): void {
    if (this.timer || this.stopped) {
      return;
    }
    this.timer = inNeutralContext(() =>
      setInterval(() => void this.renewAll(), Math.max(1, Math.floor(this.options.watchdogTimeoutMs / 3))),
    );
    this.timer.unref();
  }

  /** For good (shutdown): held locks then end with their lease. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renewAll(): Promise<void> {
    const { holds } = this.options;
    if (holds.size === 0) {
      // Stopped here rather than at each release, so a busy process does not re-arm it per lock.
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const byNode = new Map<number, HeldLock[]>();
    const now = performance.now();
    for (const state of holds.values()) {
      if (!state.watchdog || state.lost || state.releasing) {
        continue;
      }
      if (now - state.lastRenewedAt >= state.leaseMs) {
        // No successful renewal for a whole lease (e.g. renewals hang): the key may have expired.
        holds.markLost(state, 'redis-unreachable');
        continue;
      }
      const states = byNode.get(state.node);
      if (states) {
        states.push(state);
      } else {
        byNode.set(state.node, [state]);
      }
    }
    await Promise.all([...byNode].map(([node, states]) => this.renewOn(node, states)));
  }

  private async renewOn(node: number, states: HeldLock[]): Promise<void> {
    const { holds } = this.options;
    const startedAt = performance.now();
    let results: (boolean | Error)[];
    try {
      results = await renewMany(
        this.options.node(node),
        states.map((state) => ({ lockKey: state.keys.lock, owner: state.heldAs, leaseMs: state.leaseMs })),
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      results = states.map(() => failure);
    }
    states.forEach((sent, i) => {
      const result = results[i];
      // Handed to another local owner while the renewal was on its way: it counts for that one.
      const state = holds.carrierOf(sent);
      if (state === undefined || state.releasing || state.lost) {
        return;
      }
      if (result === true) {
        holds.renewed(state, startedAt);
      } else if (result === false) {
        holds.markLost(state, 'expired-or-taken');
      } else if (performance.now() - state.lastRenewedAt >= state.leaseMs) {
        // Unreachable for a whole lease: Redis has expired the key by now (or will, before we could prove otherwise).
        holds.markLost(state, 'redis-unreachable');
      }
    });
  }
}
