import { Logger, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, type AppConfig } from '../config/app-config';
import { MySqlTableLockBackend } from '@seckill/lock/mysql';
import { LOCK_TABLE_BACKEND } from './lock-table.tokens';
import { LockTableSweeper } from './lock-table.sweeper';
import { typeOrmLockClient } from './typeorm-lock-client';

/**
 * The MySQL lock table as a lock backend of the app (LOCK_BACKEND=mysql-table), on the app's own
 * pool (the table lock pins no connection while held), and its scheduled sweeper.
 */
@Module({
  providers: [
    {
      provide: LOCK_TABLE_BACKEND,
      inject: [appConfig.KEY, DataSource],
      useFactory: (config: AppConfig, dataSource: DataSource) =>
        config.LOCK_BACKEND === 'mysql-table'
          ? new MySqlTableLockBackend({
              client: typeOrmLockClient(dataSource),
              watchdogTimeoutMs: config.LOCK_WATCHDOG_TIMEOUT_MS,
              logger: new Logger('LockTable'),
            })
          : null,
    },
    LockTableSweeper,
  ],
  exports: [LOCK_TABLE_BACKEND],
})
export class LockTableModule {}
