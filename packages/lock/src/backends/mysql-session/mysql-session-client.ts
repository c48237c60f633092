/** A statement with its own client-side timeout (mysql2's `QueryOptions` shape). */
export interface TimedQuery {
  sql: string;
  values?: unknown[];
  /** ms; mysql2 fails the query and closes the connection when it passes. */
  timeout?: number;
}

/**
 * One connection taken out of a pool for as long as a lock is held (or waited for): what the
 * session-bound backends need of it, typed structurally — a mysql2/promise `PoolConnection` fits.
 */
export interface MySqlPinnedConnection {
  query(options: TimedQuery): Promise<[unknown, unknown]>;
  /** Back to the pool. */
  release(): void;
  /** Closed: the server ends the session, and with it whatever the session held. */
  destroy(): void;
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown;
  removeListener(event: 'error' | 'end', listener: (error?: unknown) => void): unknown;
}

/** Where pinned connections come from: a mysql2/promise `Pool` (best one of their own, see the README). */
export interface MySqlSessionPool {
  getConnection(): Promise<MySqlPinnedConnection>;
}
