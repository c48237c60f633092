import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app-config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { mysqlPoolOf, onFirstAcquire } from './mysql-pool';

/**
 * Settings of every MySQL session, sent once per connection on its first acquisition (mysql2 runs a
 * connection's commands in order, so they precede whatever the acquirer sends):
 * - `time_zone = '+00:00'`: `CURRENT_TIMESTAMP` defaults (create_time, update_time) are UTC on a
 *   server whose zone is not, matching how the driver reads DATETIMEs (`timezone: 'Z'`);
 * - `innodb_lock_wait_timeout` (MYSQL_LOCK_WAIT_TIMEOUT_S): a statement waiting for a row lock
 *   (the hot stock row) gives up after this instead of MySQL's 50 s default;
 * - `idle_transaction_timeout` (MYSQL_IDLE_TRANSACTION_TIMEOUT_S, MariaDB only; MySQL ignores it):
 *   a replica paused or cut off inside a transaction — holding the stock row — is disconnected by
 *   the server after this, its transaction rolled back, so the others' sale goes on.
 */
@Injectable()
export class SessionSettings implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const pool = mysqlPoolOf(this.dataSource);
    if (!pool) {
      return;
    }
    onFirstAcquire(pool, (connection) => {
      connection.query("SET time_zone = '+00:00'", () => undefined);
      connection.query(
        `SET SESSION innodb_lock_wait_timeout = ${this.config.MYSQL_LOCK_WAIT_TIMEOUT_S}`,
        () => undefined,
      );
      // A statement of its own: on MySQL (no such variable) it fails alone.
      connection.query(
        `SET SESSION idle_transaction_timeout = ${this.config.MYSQL_IDLE_TRANSACTION_TIMEOUT_S}`,
        () => undefined,
      );
    });
  }
}
