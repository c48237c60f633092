import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_STATEMENT_TIMEOUT_MS,
  MySqlSessionLockBackend,
  type MySqlSessionLockOptions,
} from '../mysql-session/mysql-session.backend';
import type { MySqlPinnedConnection } from '../mysql-session/mysql-session-client';
import { boundedName } from '../mysql-session/bounded-name';
import type { SessionGrant, SessionLockStyle } from '../mysql-session/session-lock-style';
import type { OkPacket } from '../mysql-table/mysql-client';
import { DEADLOCK, LOCK_BUSY_ERRNOS, mysqlRowSql } from './mysql-row.sql';

/** Options of the row-lock backend. */
export interface MySqlRowLockOptions extends MySqlSessionLockOptions {
  /** Table of lock rows (default `distributed_lock_row`); `ensureTable()` creates it. */
  table?: string;
}

type RowSql = ReturnType<typeof mysqlRowSql>;

/**
 * `SELECT … FOR UPDATE` on a lock row (seed 002's pessimistic lock): each grant is a transaction on
 * a pinned connection, holding the row's exclusive lock until it ends — COMMIT on unlock, ROLLBACK
 * by the server when the session dies. Waiting is InnoDB's lock wait (`innodb_lock_wait_timeout`,
 * whole seconds, set on the pinned session and reset before it goes back to the pool), with NOWAIT
 * polling for the last fraction of a second. A lock-wait timeout that reaches `waitTime` is "busy":
 * `tryLock` resolves null, `lock` rejects with `LockTimeoutError`.
 */
export class MySqlRowLockBackend extends MySqlSessionLockBackend {
  private readonly sql: RowSql;

  constructor(options: MySqlRowLockOptions) {
    const sql = mysqlRowSql(options.table ?? 'distributed_lock_row');
    super(rowStyle(sql, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS), options);
    this.sql = sql;
  }

  /** CREATE TABLE IF NOT EXISTS (apps with migrations create it there). */
  async ensureTable(): Promise<void> {
    await this.runOnce(this.sql.create);
  }
}

/** Names that have a lock row (so the first grant of a name in this process creates it, no later one). */
const MAX_KNOWN = 10_000;

function rowStyle(sql: RowSql, timeoutMs: number): SessionLockStyle {
  const known = new Set<string>();
  /** Connections whose session wait was changed from the server default. */
  const waitSet = new WeakMap<MySqlPinnedConnection, number>();
  const run = async (connection: MySqlPinnedConnection, query: string, values: unknown[] = [], extraMs = 0) =>
    (await connection.query({ sql: query, values, timeout: timeoutMs + extraMs }))[0];
  const busy = (error: unknown) => LOCK_BUSY_ERRNOS.has((error as { errno?: number }).errno ?? 0);

  const ensureRow = async (connection: MySqlPinnedConnection, key: string) => {
    if (known.has(key)) {
      return;
    }
    // A plain read first: INSERT IGNORE on an existing row would wait for its holder's lock.
    if (((await run(connection, sql.exists, [key])) as unknown[]).length === 0) {
      await run(connection, sql.insert, [key]);
    }
    if (known.size >= MAX_KNOWN) {
      known.clear();
    }
    known.add(key);
  };

  /** One locking read, waiting up to `waitS` whole seconds in InnoDB (0: NOWAIT); false if busy. */
  const lockRow = async (connection: MySqlPinnedConnection, key: string, waitS: number) => {
    if (waitS > 0 && waitSet.get(connection) !== waitS) {
      await run(connection, sql.waitSeconds, [waitS]);
      waitSet.set(connection, waitS);
    }
    try {
      await run(connection, waitS > 0 ? sql.lock : sql.lockNowait, [key], waitS * 1000);
      return true;
    } catch (error) {
      if (!busy(error)) {
        throw error;
      }
      if ((error as { errno?: number }).errno === DEADLOCK) {
        // A deadlock victim's whole transaction was rolled back: the next attempt needs a new one.
        await run(connection, sql.begin);
      }
      return false;
    }
  };

  return {
    kind: 'mysql-row',
    async grant(connection, name, waitMs): Promise<SessionGrant> {
      const key = boundedName('', name, 191);
      await ensureRow(connection, key);
      await run(connection, sql.begin);
      const deadline = performance.now() + waitMs;
      for (let attempt = 0; ; attempt++) {
        const left = deadline - performance.now();
        if (await lockRow(connection, key, left >= 1000 ? Math.min(3600, Math.floor(left / 1000)) : 0)) {
          break;
        }
        const after = deadline - performance.now();
        if (after <= 0) {
          await run(connection, sql.rollback);
          await resetWait(connection);
          return { kind: 'busy' };
        }
        if (after < 1000) {
          await sleep(Math.min(after, 5 * 2 ** Math.min(attempt, 4) * (0.5 + Math.random() / 2)));
        }
      }
      const { insertId } = (await run(connection, sql.fence, [key])) as OkPacket;
      return { kind: 'granted', fencingToken: insertId };
    },
    async held(connection, name) {
      // Our own row in our own open transaction: granted at once while the transaction lives.
      return lockRow(connection, boundedName('', name, 191), 0);
    },
    async release(connection) {
      await run(connection, sql.commit);
      await resetWait(connection);
      return true;
    },
  };

  async function resetWait(connection: MySqlPinnedConnection) {
    if (waitSet.has(connection)) {
      await run(connection, sql.resetWait);
      waitSet.delete(connection);
    }
  }
}
