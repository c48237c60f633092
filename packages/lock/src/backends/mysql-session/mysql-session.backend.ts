import type { LockBackend, LockBackendEvents } from '../../lock-backend';
import { BackendHolds } from '../backend-holds';
import { LockLostError, LockUnavailableError } from '../../lock.errors';
import type { LockLostEvent, Lockable } from '../../lock.types';
import { inNeutralContext } from '../../neutral-context';
import type { MySqlPinnedConnection, MySqlSessionPool } from './mysql-session-client';
import type { SessionHold } from './session-hold';
import { MySqlSessionLock } from './session-lock';
import type { SessionLockStyle } from './session-lock-style';

export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

/** Options of a session-bound MySQL backend (GET_LOCK, row lock). */
export interface MySqlSessionLockOptions {
  /**
   * A mysql2/promise pool. Every held lock and every waiter pins one of its connections, so give the
   * backend a pool of its own sized for them (see the README's pool cost), not the app's.
   */
  pool: MySqlSessionPool;
  /** Every third of it, each held lock's session is checked (a heartbeat); default 30 000 ms. */
  watchdogTimeoutMs?: number;
  /** Client-side timeout of each statement other than the waiting grant (default 5 000 ms). */
  statementTimeoutMs?: number;
  logger?: { warn(message: string): void };
}

/**
 * Locks that live as long as a database session holds them: the server frees them when the session
 * ends (commit or release, the connection closed, the process gone), with no lease to renew. The
 * backend pins a pool connection per hold and per waiter, re-enters per owner in the process (the
 * session already holds the lock), checks each held session every third of `watchdogTimeoutMs` and
 * signals loss when a session ends under a hold. A `leaseTime` is enforced here: when it passes the
 * session is closed, which frees the lock on the server at once.
 */
export class MySqlSessionLockBackend implements LockBackend {
  readonly kind: string;
  readonly statementTimeoutMs: number;
  private readonly holds: BackendHolds<SessionHold>;
  /** Connections waiting for a grant; close() ends them. */
  private readonly waiting = new Set<MySqlPinnedConnection>();
  private readonly heartbeatMs: number;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly style: SessionLockStyle,
    readonly options: MySqlSessionLockOptions,
  ) {
    this.kind = style.kind;
    this.holds = new BackendHolds<SessionHold>({
      kind: this.kind,
      logger: options.logger,
      // The session is closed so that the server frees whatever it still held.
      onLost: (hold) => {
        hold.detach();
        hold.connection.destroy();
      },
    });
    this.statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.heartbeatMs = Math.max(1, Math.floor((options.watchdogTimeoutMs ?? 30_000) / 3));
  }

  getLock(name: string, owner: string): Lockable {
    return new MySqlSessionLock(this, name, owner);
  }

  attach(events: LockBackendEvents): void {
    this.holds.events = events;
  }

  /** Where its locks' events go (the LockService's, once attached). */
  get events(): LockBackendEvents {
    return this.holds.events;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const connection of this.waiting) {
      connection.destroy();
    }
    this.waiting.clear();
    return Promise.resolve();
  }

  /** One statement on a connection of the pool, given back after (DDL of the backends' tables). */
  protected async runOnce(sql: string): Promise<void> {
    const connection = await this.options.pool.getConnection();
    try {
      await connection.query({ sql, timeout: this.statementTimeoutMs });
    } finally {
      connection.release();
    }
  }

  /** @internal a connection of its own for a grant, or null if none came before `deadline`. */
  async pin(name: string, deadline: number): Promise<MySqlPinnedConnection | null> {
    const pending = this.options.pool.getConnection();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, Math.min(deadline - performance.now(), 2 ** 31 - 1)));
    });
    let connection: MySqlPinnedConnection | null;
    try {
      connection = await Promise.race([pending, timedOut]);
    } catch (error) {
      throw new LockUnavailableError(`MySQL gave no connection to acquire ${name}`, name, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (!connection) {
      // The pool was exhausted for the whole wait: the late connection goes back unused.
      void pending.then((late) => late.release()).catch(() => undefined);
      return null;
    }
    if (this.closed) {
      connection.release();
      return null;
    }
    this.waiting.add(connection);
    return connection;
  }

  /** @internal the grant on `connection` is over (granted or not). */
  unpin(connection: MySqlPinnedConnection): void {
    this.waiting.delete(connection);
  }

  /** @internal */
  hold(name: string, owner: string): SessionHold | undefined {
    return this.holds.get(name, owner);
  }

  /** @internal the first hold, granted on `connection` with `fencingToken`. */
  enter(hold: {
    name: string;
    owner: string;
    connection: MySqlPinnedConnection;
    fencingToken: number;
    leaseMs?: number;
  }): SessionHold {
    const onEnd = (error?: unknown) =>
      this.markLost(entered, 'session-ended', error instanceof Error ? error.message : 'connection closed');
    const entered: SessionHold = {
      ...hold,
      holds: 1,
      controller: new AbortController(),
      detach: () => {
        hold.connection.removeListener('error', onEnd);
        hold.connection.removeListener('end', onEnd);
      },
    };
    hold.connection.on('error', onEnd);
    hold.connection.on('end', onEnd);
    this.holds.add(entered);
    if (hold.leaseMs !== undefined) {
      this.holds.armLease(entered, hold.leaseMs, () => this.markLost(entered, 'lease-elapsed'));
    }
    inNeutralContext(() => {
      this.heartbeat ??= setInterval(() => void this.checkAll(), this.heartbeatMs).unref();
    });
    return entered;
  }

  /** @internal the hold is over: its connection goes back to the pool if clean, else is closed. */
  leave(hold: SessionHold, clean: boolean): void {
    this.holds.remove(hold);
    hold.detach();
    if (clean && !hold.lost) {
      hold.connection.release();
    } else {
      hold.connection.destroy();
    }
  }

  /**
   * @internal The hold is gone (or can no longer be trusted): the session is closed so that the server
   * frees whatever it still held, and the section's signal fires.
   */
  markLost(hold: SessionHold, reason: LockLostEvent['reason'], detail?: string): LockLostError {
    return this.holds.markLost(hold, reason, detail);
  }

  private async checkAll(): Promise<void> {
    const live = [...this.holds.values()].filter((hold) => !hold.lost);
    if (live.length === 0 || this.closed) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    await Promise.all(
      live.map(async (hold) => {
        const held = await this.style.held(hold.connection, hold.name).catch(() => false);
        if (!held && this.holds.isCurrent(hold) && !hold.releasing) {
          this.markLost(hold, 'session-ended', 'the session no longer holds it');
        }
      }),
    );
  }
}
