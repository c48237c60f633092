import type { DataSource } from 'typeorm';
import type { MySqlLockClient } from '@seckill/lock/mysql';

/**
 * The lock table's client over the app's DataSource: each statement on a pooled connection of its
 * own, in autocommit — never inside a caller's transaction (a lock must be visible to others at
 * once, and released even if the caller's transaction rolls back).
 */
export function typeOrmLockClient(dataSource: DataSource): MySqlLockClient {
  return {
    query: async (sql, values) => [await dataSource.query(sql, values), undefined],
  };
}
