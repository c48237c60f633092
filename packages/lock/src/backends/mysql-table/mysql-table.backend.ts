import { setMaxListeners } from 'node:events';
import type { LockBackend, LockBackendEvents } from '../../lock-backend';
import { BackendHolds } from '../backend-holds';
import { LockLostError } from '../../lock.errors';
import type { LockLostEvent, Lockable } from '../../lock.types';
import { inNeutralContext } from '../../neutral-context';
import type { MySqlLockClient, OkPacket } from './mysql-client';
import { MySqlTableLock } from './mysql-table-lock';
import { mysqlTableSql, type MySqlTableSql } from './mysql-table.sql';

/** Options of the lock-table backend. */
export interface MySqlTableLockOptions {
  /** A mysql2/promise pool (any client with `query(sql, values)`). */
  client: MySqlLockClient;
  /** Table name (default `distributed_lock`); `ensureTable()` creates it. */
  table?: string;
  /** Lease of a lock taken without `leaseTime`, renewed every third of it while held (default 30 000 ms). */
  watchdogTimeoutMs?: number;
  /** Waiting: attempts back off from `minMs` doubling to `maxMs`, with jitter (default 5 and 200 ms). */
  retry?: { minMs?: number; maxMs?: number };
  /** Every statement fails (`LockUnavailableError`) after this long without an answer (default 5 000 ms). */
  statementTimeoutMs?: number;
  logger?: { warn(message: string): void };
}

/** This process's bookkeeping of one owner's hold on one lock. */
export interface TableHold {
  name: string;
  owner: string;
  holds: number;
  fencingToken: number;
  leaseMs: number;
  watchdog: boolean;
  lastRenewedAt: number;
  controller: AbortController;
  leaseTimer?: NodeJS.Timeout;
  lost?: LockLostError;
  /** The final release is under way: a renewal that finds no row now raced the owner's DELETE. */
  releasing?: boolean;
}

/**
 * Locks as rows of a MySQL table (seed 002's lock table): unique name, owner, hold count, expiry
 * by the database clock, fencing counter. Acquire is one statement (insert, or take over an expired
 * row); release deletes by owner; a watchdog renews locks taken without a lease; waiting polls with
 * backoff bounded by `waitTime`. No connection is held while a lock is held. `sweepExpired()` removes
 * rows whose holders died (schedule it, e.g. with @nestjs/schedule, or pass nothing: a dead holder's
 * row is also simply taken over by the next acquirer).
 */
export class MySqlTableLockBackend implements LockBackend {
  readonly kind = 'mysql-table';
  readonly sql: MySqlTableSql;
  readonly watchdogTimeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly statementTimeoutMs: number;
  private readonly holds: BackendHolds<TableHold>;
  private watchdogTimer?: NodeJS.Timeout;
  private closed = false;
  /** Wakes every waiter's backoff sleep (close). */
  private readonly closing = new AbortController();

  constructor(readonly options: MySqlTableLockOptions) {
    this.sql = mysqlTableSql(options.table ?? 'distributed_lock');
    this.holds = new BackendHolds({ kind: this.kind, logger: options.logger });
    this.watchdogTimeoutMs = options.watchdogTimeoutMs ?? 30_000;
    this.retryMinMs = options.retry?.minMs ?? 5;
    this.retryMaxMs = options.retry?.maxMs ?? 200;
    this.statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    // Every waiter's backoff listens to it: any number of waiters is normal, not a leak.
    setMaxListeners(Infinity, this.closing.signal);
  }

  /** CREATE TABLE IF NOT EXISTS (apps with migrations create the same table there). */
  async ensureTable(): Promise<void> {
    await this.query(this.sql.create);
  }

  getLock(name: string, owner: string): Lockable {
    return new MySqlTableLock(this, name, owner);
  }

  attach(events: LockBackendEvents): void {
    this.holds.events = events;
  }

  /** Where its locks' events go (the LockService's, once attached). */
  get events(): LockBackendEvents {
    return this.holds.events;
  }

  /** Deletes rows expired for longer than `graceMs` (at most `limit`); returns how many. */
  async sweepExpired(options: { graceMs?: number; limit?: number } = {}): Promise<number> {
    return (await this.run(this.sql.sweep, [options.graceMs ?? 0, options.limit ?? 1000])).affectedRows;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdogTimer);
    for (const hold of this.holds.values()) {
      clearTimeout(hold.leaseTimer);
    }
    this.closing.abort();
    return Promise.resolve();
  }

  /** @internal */
  async run(sql: string, values: unknown[]): Promise<OkPacket> {
    return (await this.query(sql, values)) as OkPacket;
  }

  /**
   * @internal One statement, failed after `statementTimeoutMs` whatever the client does (a statement
   * whose answer is lost is settled by the next one: an acquire confirms its own row, a lease ends).
   */
  async query(sql: string, values: unknown[] = []): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`MySQL did not answer within ${this.statementTimeoutMs} ms`)),
        this.statementTimeoutMs,
      );
    });
    try {
      const [result] = await Promise.race([this.options.client.query(sql, values), timeout]);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal */
  hold(name: string, owner: string): TableHold | undefined {
    return this.holds.get(name, owner);
  }

  /** @internal a first hold granted with `fencingToken`. */
  enter(hold: Omit<TableHold, 'controller' | 'lastRenewedAt' | 'holds'>): TableHold {
    const entered: TableHold = {
      ...hold,
      holds: 1,
      controller: new AbortController(),
      lastRenewedAt: performance.now(),
    };
    this.holds.add(entered);
    if (entered.watchdog) {
      this.ensureWatchdog();
    } else {
      this.holds.armLease(entered, entered.leaseMs, () => this.markLost(entered, 'lease-elapsed'));
    }
    return entered;
  }

  /** @internal the hold is over (released, or lost and unlocked). */
  leave(hold: TableHold): void {
    this.holds.remove(hold);
  }

  /** @internal */
  markLost(hold: TableHold, reason: LockLostEvent['reason']): LockLostError {
    return this.holds.markLost(hold, reason);
  }

  private ensureWatchdog(): void {
    if (this.watchdogTimer || this.closed) {
      return;
    }
    this.watchdogTimer = inNeutralContext(() =>
      setInterval(() => void this.renewAll(), Math.max(1, Math.floor(this.watchdogTimeoutMs / 3))).unref(),
    );
  }

  private async renewAll(): Promise<void> {
    const watched = [...this.holds.values()].filter((hold) => hold.watchdog && !hold.lost);
    if (watched.length === 0) {
      clearInterval(this.watchdogTimer);
      this.watchdogTimer = undefined;
      return;
    }
    await Promise.all(
      watched.map(async (hold) => {
        const startedAt = performance.now();
        try {
          const { affectedRows } = await this.run(this.sql.renew, [hold.leaseMs, hold.name, hold.owner]);
          if (affectedRows === 1) {
            hold.lastRenewedAt = startedAt;
          } else if (this.holds.isCurrent(hold) && !hold.releasing) {
            // (Renewal and release run on different pool connections: a renewal answered after
            // the owner's DELETE finds no row without the lock having been lost.)
            this.markLost(hold, 'expired-or-taken');
          }
        } catch {
          if (performance.now() - hold.lastRenewedAt >= hold.leaseMs) {
            this.markLost(hold, 'backend-unreachable');
          }
        }
      }),
    );
  }
}
