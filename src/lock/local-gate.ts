interface Waiter {
  owner: string;
  resolve: (granted: boolean) => void;
  timer?: NodeJS.Timeout;
}

interface GateState {
  holder: string;
  waiters: Waiter[];
}

/**
 * In-process FIFO in front of each Redis lock: at most one owner per process competes for (or
 * holds) a given lock in Redis, the others queue here in arrival order. This makes contention
 * within a process strictly fair and keeps a hot key from flooding Redis with retries.
 */
export class LocalGate {
  private readonly gates = new Map<string, GateState>();

  /** Resolves true when `owner` may compete for `key`, false if `timeoutMs` passed first. */
  enter(key: string, owner: string, timeoutMs: number): Promise<boolean> | boolean {
    const gate = this.gates.get(key);
    if (!gate) {
      this.gates.set(key, { holder: owner, waiters: [] });
      return true;
    }
    if (timeoutMs <= 0) {
      return false;
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { owner, resolve };
      if (Number.isFinite(timeoutMs)) {
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

  /** Passes the gate to the next waiter, or removes it. */
  leave(key: string, owner: string): void {
    const gate = this.gates.get(key);
    if (!gate || gate.holder !== owner) {
      return;
    }
    const next = gate.waiters.shift();
    if (!next) {
      this.gates.delete(key);
      return;
    }
    clearTimeout(next.timer);
    gate.holder = next.owner;
    next.resolve(true);
  }

  /** Owners queued behind the current one (for metrics and tests). */
  queued(key: string): number {
    return this.gates.get(key)?.waiters.length ?? 0;
  }
}
