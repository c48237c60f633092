import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';

/**
 * One definition of the MySQL connection for the app and the migration CLI.
 * BIGINT ids come back as decimal strings (`supportBigNumbers` + `bigNumberStrings`) so
 * values above 2^53 never pass through a JS number.
 */
export function buildDataSourceOptions(mysqlUrl: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'mysql',
    url: mysqlUrl,
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    synchronize: false,
    migrationsRun: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4',
    poolSize,
    // A MySQL that does not answer a connect within 2 s is a 503 DATABASE_UNAVAILABLE, not a hang.
    connectTimeout: 2000,
    // `trace: false`: mysql2 would otherwise capture a stack trace on every query (for its errors'
    // call sites), ~2 % of a replica's CPU on the sync sale; TypeORM's errors name the query anyway.
    // `multipleStatements`: the sync group commit opens its transaction, inserts its orders and
    // takes their stock in one round trip (`OrderBatchRepository.openWith`), two fewer per batch.
    // Every query here passes values as `?` parameters (mysql2 escapes them); what is spliced into
    // SQL text is only placeholders, column lists and numbers from the validated config. Keep it so:
    // with this flag an injected `;` would run a statement of its own.
    extra: { connectionLimit: poolSize, enableKeepAlive: true, trace: false, multipleStatements: true },
  };
}
