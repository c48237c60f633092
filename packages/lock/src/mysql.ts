/**
 * The lock library's MySQL entry: the three MySQL backends (lock table, `GET_LOCK`, `SELECT … FOR
 * UPDATE`) and the structural client shapes they need. Pulls in no driver: give it mysql2's pool.
 */
export { MySqlTableLockBackend, type MySqlTableLockOptions } from './backends/mysql-table/mysql-table.backend';
export type { MySqlLockClient } from './backends/mysql-table/mysql-client';
export { MySqlNamedLockBackend, type MySqlNamedLockOptions } from './backends/mysql-named/mysql-named.backend';
export { MySqlRowLockBackend, type MySqlRowLockOptions } from './backends/mysql-row/mysql-row.backend';
export type { MySqlSessionLockOptions } from './backends/mysql-session/mysql-session.backend';
export type {
  MySqlPinnedConnection,
  MySqlSessionPool,
  TimedQuery,
} from './backends/mysql-session/mysql-session-client';
