import type { MySqlPinnedConnection } from './mysql-session-client';

/** What a waited-for grant came to: the fencing token, or busy until the deadline. */
export type SessionGrant = { kind: 'granted'; fencingToken: number } | { kind: 'busy' };

/**
 * The statements of one session-bound way of locking (GET_LOCK, or a row lock in a transaction).
 * The backend around it owns connections, holds, leases, waiting deadlines and the lost signal;
 * a style only says how a session takes, checks and gives up one lock.
 */
export interface SessionLockStyle {
  readonly kind: string;
  /**
   * Takes `name` on `connection`, waiting in the server up to `waitMs`. May leave the session in a
   * state only `release` or the connection's end undoes (a lock, an open transaction).
   */
  grant(connection: MySqlPinnedConnection, name: string, waitMs: number): Promise<SessionGrant>;
  /** True while this session still holds `name` (also the session's heartbeat). */
  held(connection: MySqlPinnedConnection, name: string): Promise<boolean>;
  /** Gives `name` up; false if the session no longer held it. The connection is then clean for the pool. */
  release(connection: MySqlPinnedConnection, name: string): Promise<boolean>;
}
