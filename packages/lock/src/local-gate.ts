import type { HeldLock } from './held-lock';
import { VacatingMap } from './vacating-map';

/**
 * A lock already handed to the next waiter by the releasing owner: in Redis (see release.lua), or
 * locally without a round trip (`carried`: the new holder's state, registered already).
 */
export interface HandedOver {
  fencingToken: number;
  /** When the releasing call was sent: the new holder's lease runs from no earlier than this. */
  sentAt: number;
  carried?: HeldLock;
}

/** What a waiter gets: false (timed out), true (compete in Redis now), or the lock itself. */
export type GateGrant = boolean | HandedOver;

interface Waiter {
  owner: string;
  /** The lease it asks for; 0: a watchdog lease. */
  leaseMs: number;
  resolve: (grant: GateGrant) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

interface GateState {
  holder: string;
  waiters: Waiter[];
}

/**
 * In-process FIFO in front of each Redis lock: at most one owner per process competes for (or
 * holds) a given lock in Redis, the others queue here in arrival order. This makes contention
 * within a process strictly fair, keeps a hot key from flooding Redis with retries, and lets a
 * releasing owner hand the lock straight to the next local waiter.
 */
export class LocalGate {
  /** A plain string is a holder with nobody queued (no object per uncontended acquisition). */
  private readonly gates = new VacatingMap<string, GateState | string>();

  /**
   * Grants at once (true) when the gate is free; otherwise queues `owner` for up to `timeoutMs`
   * with the lease it asks for (`leaseMs`, 0: a watchdog lease).
   */
  enter(key: string, owner: string, timeoutMs: number, leaseMs = 0): Promise<GateGrant> | boolean {
    const entry = this.gates.get(key);
    if (entry === undefined) {
      this.gates.set(key, owner);
      return true;
    }
    if (timeoutMs <= 0) {
      return false;
    }
    const gate = typeof entry === 'string' ? { holder: entry, waiters: [] } : entry;
    if (typeof entry === 'string') {
      this.gates.set(key, gate);
    }
    return new Promise<GateGrant>((resolve, reject) => {
      const waiter: Waiter = { owner, leaseMs, resolve, reject };
      // setTimeout cannot wait longer than 2^31-1 ms; longer waits are treated as unbounded.
      if (timeoutMs <= 2_147_483_647) {
        waiter.timer = setTimeout(() => {
          const index = gate.waiters.indexOf(waiter);
          if (index >= 0) {
            gate.waiters.splice(index, 1);
            resolve(false);
          }
        }, timeoutMs);
      }
      gate.waiters.push(waiter);
    });
  }

  /** The waiter after `holder`, if `holder` holds the gate: the candidate for a hand-over. */
  peekNext(key: string, holder: string): { owner: string; leaseMs: number } | undefined {
    const entry = this.gates.get(key);
    const next = typeof entry === 'object' && entry.holder === holder ? entry.waiters[0] : undefined;
    return next && { owner: next.owner, leaseMs: next.leaseMs };
  }

  /**
   * Passes the gate to the next waiter (with the lock itself if `handover` names it), or removes
   * the gate. Returns the owner of a hand-over nobody can take any more (its waiter timed out in
   * the meantime): the caller must release that owner's lock in Redis.
   */
  leave(key: string, owner: string, handover?: HandedOver & { to: string }): string | undefined {
    const gate = this.gates.get(key);
    if (gate === owner) {
      this.gates.delete(key);
      return handover?.to;
    }
    if (typeof gate !== 'object' || gate.holder !== owner) {
      return handover?.to;
    }
    const next = gate.waiters.shift();
    if (!next) {
      this.gates.delete(key);
      return handover?.to;
    }
    clearTimeout(next.timer);
    gate.holder = next.owner;
    if (handover && handover.to === next.owner) {
      next.resolve({ fencingToken: handover.fencingToken, sentAt: handover.sentAt, carried: handover.carried });
      return undefined;
    }
    next.resolve(true);
    return handover?.to;
  }

  /** Rejects every queued waiter with `error` (shutdown); holders keep their place until they leave. */
  rejectWaiters(error: Error): void {
    for (const entry of this.gates.values()) {
      if (typeof entry === 'object') {
        for (const waiter of entry.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(error);
        }
      }
    }
  }

  /** Owners queued behind the current one (for metrics and tests). */
  queued(key: string): number {
    const entry = this.gates.get(key);
    return typeof entry === 'object' ? entry.waiters.length : 0;
  }
}
