import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { appConfig, type AppConfig } from '../config/app-config';
import { mysqlPoolOf, onFirstAcquire, type PooledConnection } from './mysql-pool';

type QueryCallback = (error: unknown, ...results: unknown[]) => void;
type QueryOptions = { sql: string; timeout?: number } & Record<string, unknown>;

/**
 * Every statement sent on a pooled connection answers within MYSQL_QUERY_TIMEOUT_MS or fails with
 * mysql2's `PROTOCOL_SEQUENCE_TIMEOUT` (→ 503 DATABASE_UNAVAILABLE), and the connection is then
 * closed: mysql2 runs a connection's commands one after another, so the ROLLBACK that follows a
 * timed-out statement would otherwise wait behind it, unbounded, for a MySQL that stopped answering.
 * Closed, the connection leaves the pool, its next command fails at once, and the server rolls its
 * transaction back when it sees the disconnect. (TypeORM's own `enableQueryTimeout` sets the same
 * timer but leaves the connection stuck.) Migrations run outside the app: not bounded.
 */
@Injectable()
export class QueryTimeout implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const pool = mysqlPoolOf(this.dataSource);
    if (pool) {
      onFirstAcquire(pool, (connection) => this.bound(connection));
    }
  }

  private bound(connection: PooledConnection): void {
    const timeout = this.config.MYSQL_QUERY_TIMEOUT_MS;
    const query = connection.query.bind(connection) as (...args: unknown[]) => unknown;
    // This connection's statements not answered yet: the callback mysql2 gets → the caller's.
    const pending = new Map<QueryCallback, QueryCallback>();
    (connection as { query: unknown }).query = (sql: unknown, values?: unknown, callback?: QueryCallback) => {
      const done = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
      const text = typeof sql === 'string' || (typeof sql === 'object' && sql !== null && !('onResult' in sql));
      if (!done || !text) {
        // A stream (no callback) or a Query object built elsewhere: run as mysql2 would.
        return query(sql, values, callback);
      }
      const options: QueryOptions = typeof sql === 'string' ? { sql, timeout } : { timeout, ...(sql as QueryOptions) };
      const answer: QueryCallback = (error, ...results) => {
        if (!pending.delete(answer)) {
          return; // answered already, when an earlier statement timed out
        }
        const timedOut = (error as { code?: string } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
        if (timedOut) {
          connection.destroy();
        }
        done(error, ...results);
        if (timedOut) {
          // Statements queued behind it would never start (their timers start when they do): they
          // fail now with the same error, and whatever mysql2 says of them later is ignored.
          for (const [queued, caller] of pending) {
            pending.delete(queued);
            caller(error);
          }
        }
      };
      pending.set(answer, done);
      return typeof values === 'function' || values === undefined
        ? query(options, answer)
        : query(options, values, answer);
    };
  }
}
