import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { appConfig, type AppConfig } from '../config/app-config';
import { mysqlPoolOf, type AcquireCallback } from './mysql-pool';

/** Raised when no pooled MySQL connection became free in time; answered `503 DATABASE_UNAVAILABLE`. */
export class PoolAcquireTimeoutError extends Error {
  readonly code = 'POOL_ACQUIRE_TIMEOUT';
}

/**
 * mysql2's pool has no acquire timeout: when every connection is taken (held by transactions
 * waiting on the hot stock row, or by a MySQL that stopped answering) a request waits in the pool's
 * queue for as long as that lasts. This bounds the wait by MYSQL_POOL_ACQUIRE_TIMEOUT_MS: the
 * waiter fails with `POOL_ACQUIRE_TIMEOUT` (→ 503), and a connection that arrives for it later
 * goes straight back to the pool.
 */
@Injectable()
export class PoolAcquireTimeout implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const pool = mysqlPoolOf(this.dataSource);
    if (!pool) {
      return;
    }
    const acquire = pool.getConnection.bind(pool);
    const timeoutMs = this.config.MYSQL_POOL_ACQUIRE_TIMEOUT_MS;
    pool.getConnection = (callback: AcquireCallback) => {
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        callback(new PoolAcquireTimeoutError(`No MySQL connection became free within ${timeoutMs} ms`));
      }, timeoutMs);
      acquire((error, connection) => {
        if (answered) {
          connection?.release();
          return;
        }
        answered = true;
        clearTimeout(timer);
        callback(error, connection);
      });
    };
  }
}
