import {
  DEFAULT_STATEMENT_TIMEOUT_MS,
  MySqlSessionLockBackend,
  type MySqlSessionLockOptions,
} from '../mysql-session/mysql-session.backend';
import type { MySqlPinnedConnection } from '../mysql-session/mysql-session-client';
import type { SessionGrant, SessionLockStyle } from '../mysql-session/session-lock-style';
import type { OkPacket } from '../mysql-table/mysql-client';
import { mysqlNamedSql, namedLockName } from './mysql-named.sql';

/** Options of the GET_LOCK backend. */
export interface MySqlNamedLockOptions extends MySqlSessionLockOptions {
  /** Table of fencing counters (default `distributed_lock_fence`); `ensureTable()` creates it. */
  fenceTable?: string;
  /** Prefix of the server-side lock names, which are global to the server (default `lock:`). */
  prefix?: string;
}

/** Longest wait GET_LOCK is asked for at once; `waitTime: Infinity` waits in such rounds. */
const MAX_WAIT_S = 86_400;

/**
 * MySQL named locks (`GET_LOCK` / `RELEASE_LOCK`, seed 002): held by the session that took them and
 * freed by the server when it ends, so the connection stays pinned while the lock is held. Waiting
 * happens in the server (no polling), and a waiter whose process dies is dropped with its session.
 * The locks are not replicated: after a failover to a replica every named lock is free again — pass
 * the fencing token to what the section writes.
 */
export class MySqlNamedLockBackend extends MySqlSessionLockBackend {
  private readonly sql: ReturnType<typeof mysqlNamedSql>;

  constructor(options: MySqlNamedLockOptions) {
    const sql = mysqlNamedSql(options.fenceTable ?? 'distributed_lock_fence');
    const prefix = options.prefix ?? 'lock:';
    super(namedStyle(sql, prefix, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS), options);
    this.sql = sql;
  }

  /** CREATE TABLE IF NOT EXISTS for the fencing counters (apps with migrations create it there). */
  async ensureTable(): Promise<void> {
    await this.runOnce(this.sql.create);
  }
}

function namedStyle(sql: ReturnType<typeof mysqlNamedSql>, prefix: string, timeoutMs: number): SessionLockStyle {
  const scalar = async (connection: MySqlPinnedConnection, query: string, name: string) => {
    const [rows] = await connection.query({ sql: query, values: [namedLockName(prefix, name)], timeout: timeoutMs });
    return Object.values((rows as Record<string, unknown>[])[0] ?? {})[0];
  };
  return {
    kind: 'mysql-named',
    async grant(connection, name, waitMs): Promise<SessionGrant> {
      for (let left = waitMs; ;) {
        const waitS = Math.min(MAX_WAIT_S, left / 1000);
        const startedAt = performance.now();
        const [result] = await connection.query({
          sql: sql.grant,
          values: [name, namedLockName(prefix, name), waitS],
          timeout: waitS * 1000 + timeoutMs,
        });
        const { affectedRows, insertId } = result as OkPacket;
        if (affectedRows > 0) {
          return { kind: 'granted', fencingToken: insertId };
        }
        left -= performance.now() - startedAt;
        if (waitS < MAX_WAIT_S || left <= 0) {
          return { kind: 'busy' };
        }
      }
    },
    async held(connection, name) {
      return Number(await scalar(connection, sql.held, name)) === 1;
    },
    async release(connection, name) {
      return Number(await scalar(connection, sql.release, name)) === 1;
    },
  };
}
