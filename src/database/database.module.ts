import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { appConfig, AppConfig } from '../config/app-config';
import { LOCK_TRANSACTION_BRIDGE } from '@seckill/lock/nest';
import { LockTransactionBridgeTypeOrm } from './lock-transaction.bridge';
import { buildDataSourceOptions } from './typeorm-options';
import { PoolAcquireTimeout } from './pool-acquire-timeout';
import { QueryTimeout } from './query-timeout';
import { SessionSettings } from './session-settings';

/**
 * MySQL through TypeORM, plus `@Transactional()` (nestjs-cls): repositories read the active
 * EntityManager from the TransactionHost instead of receiving it as a parameter.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config.MYSQL_URL, config.MYSQL_POOL_SIZE),
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 500,
      }),
    }),
    ClsModule.forRoot({
      global: true,
      plugins: [
        new ClsPluginTransactional({
          imports: [TypeOrmModule],
          adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
        }),
      ],
    }),
  ],
  providers: [
    { provide: LOCK_TRANSACTION_BRIDGE, useClass: LockTransactionBridgeTypeOrm },
    // Before SessionSettings: each connection is bounded before its session settings are sent.
    QueryTimeout,
    SessionSettings,
    PoolAcquireTimeout,
  ],
  exports: [LOCK_TRANSACTION_BRIDGE],
})
export class DatabaseModule {}
