import { setTimeout as sleep } from 'node:timers/promises';
import { lockFromTryLock } from '../../lock-from-try-lock';
import { assertCanAcquire } from '../acquire-checks';
import { unlockOnce } from '../../lock-handle';
import { LockUnavailableError } from '../../lock.errors';
import { leaseSafetyMargin } from '../../lock-options';
import type { AcquireOptions, LockHandle, Lockable } from '../../lock.types';
import type { MySqlTableLockBackend, TableHold } from './mysql-table.backend';

/** One lock name in the lock table, as held by one owner; reentrant per owner. */
export class MySqlTableLock implements Lockable {
  constructor(
    private readonly backend: MySqlTableLockBackend,
    readonly name: string,
    private readonly owner: string,
  ) {}

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    assertCanAcquire(this.name, options, this.backend.isClosed);
    const leaseMs = options.leaseTime ?? this.backend.watchdogTimeoutMs;
    const existing = this.backend.hold(this.name, this.owner);
    if (existing && !existing.lost) {
      return this.reenter(existing, leaseMs);
    }
    const startedAt = performance.now();
    const deadline = startedAt + (options.waitTime ?? 0);
    for (let attempt = 0; ; attempt++) {
      const token = await this.attempt(leaseMs);
      if (token > 0) {
        const hold = this.backend.enter({
          name: this.name,
          owner: this.owner,
          fencingToken: token,
          leaseMs,
          watchdog: options.leaseTime === undefined,
        });
        this.backend.events.acquired({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
        return this.handle(hold);
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.backend.isClosed) {
        if (options.waitTime) {
          this.backend.events.timedOut({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
        }
        return null;
      }
      // Exponential backoff with jitter, never past the deadline: polling is this store's only way to wait.
      const backoff = Math.min(this.backend.retryMaxMs, this.backend.retryMinMs * 2 ** Math.min(attempt, 16));
      await sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)), undefined, {
        signal: this.backend.closeSignal,
      }).catch(() => undefined);
    }
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return lockFromTryLock(this, 'Lock', options);
  }

  private async attempt(leaseMs: number): Promise<number> {
    try {
      return (await this.backend.run(this.backend.sql.acquire, [this.name, this.owner, leaseMs])).insertId;
    } catch (error) {
      throw unavailable(this.name, 'acquire', error);
    }
  }

  private async reenter(hold: TableHold, leaseMs: number): Promise<LockHandle> {
    let affected: number;
    try {
      affected = (await this.backend.run(this.backend.sql.reenter, [leaseMs, this.name, this.owner])).affectedRows;
    } catch (error) {
      throw unavailable(this.name, 're-enter', error);
    }
    if (affected !== 1) {
      // As on Redis: a re-entry never takes the lock anew; the outer section lost its exclusivity.
      throw this.backend.markLost(hold, 'expired-or-taken');
    }
    hold.holds++;
    return this.handle(hold);
  }

  private handle(hold: TableHold): LockHandle {
    return {
      name: this.name,
      holdCount: hold.holds,
      fencingToken: hold.fencingToken,
      signal: hold.controller.signal,
      assertHeld: async (mode) => {
        if (hold.lost) {
          throw hold.lost;
        }
        if (
          mode === 'lease' &&
          performance.now() - hold.lastRenewedAt < hold.leaseMs - leaseSafetyMargin(hold.leaseMs)
        ) {
          return;
        }
        let rows: unknown;
        try {
          rows = await this.backend.query(this.backend.sql.held, [this.name, this.owner]);
        } catch (error) {
          throw unavailable(this.name, 'check', error);
        }
        if ((rows as unknown[]).length !== 1) {
          throw this.backend.markLost(hold, 'expired-or-taken');
        }
      },
      unlock: unlockOnce(this.name, () => this.release(hold)),
    };
  }

  private async release(hold: TableHold): Promise<void> {
    const { sql } = this.backend;
    const final = hold.holds <= 1;
    hold.releasing = final;
    let affected: number;
    try {
      affected = (await this.backend.run(final ? sql.release : sql.leave, [this.name, this.owner])).affectedRows;
    } catch (error) {
      throw unavailable(this.name, 'release', error);
    }
    if (final) {
      this.backend.leave(hold);
    } else {
      hold.holds--;
    }
    if (affected === 1 && !hold.lost) {
      if (final) {
        this.backend.events.released({ name: this.name, owner: this.owner });
      }
      return;
    }
    if (final) {
      // Expired (perhaps taken over and released since): only this owner's row may go.
      await this.backend.run(sql.releaseExpired, [this.name, this.owner]).catch(() => undefined);
    }
    throw hold.lost ?? this.backend.markLost(hold, 'expired-or-taken');
  }
}

const unavailable = (name: string, step: string, cause: unknown) =>
  new LockUnavailableError(`MySQL could not be reached to ${step} ${name}`, name, { cause });
