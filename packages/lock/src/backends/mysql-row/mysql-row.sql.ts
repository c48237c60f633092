import { checkTableName } from '../mysql-table/mysql-table.sql';

const NOW_US = 'CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED)';

export const mysqlRowSql = (table: string) => {
  const t = `\`${checkTableName(table)}\``;
  return {
    create: `CREATE TABLE IF NOT EXISTS ${t} (
      name VARCHAR(191) NOT NULL PRIMARY KEY,
      fence BIGINT UNSIGNED NOT NULL DEFAULT 0
    ) ENGINE=InnoDB`,
    /** A plain (non-locking) read: is there a row to lock yet? [name] */
    exists: `SELECT 1 AS present FROM ${t} WHERE name = ?`,
    /** The lock row, created once per name outside any transaction [name]. */
    insert: `INSERT IGNORE INTO ${t} (name, fence) VALUES (?, 0)`,
    begin: 'START TRANSACTION',
    /** The lock itself: an exclusive row lock until COMMIT or ROLLBACK [name]. */
    lock: `SELECT fence FROM ${t} WHERE name = ? FOR UPDATE`,
    lockNowait: `SELECT fence FROM ${t} WHERE name = ? FOR UPDATE NOWAIT`,
    /** Under the row lock: the grant's token, max(fence + 1, server µs), as the insert id [name]. */
    fence: `UPDATE ${t} SET fence = LAST_INSERT_ID(GREATEST(fence + 1, ${NOW_US})) WHERE name = ?`,
    /** Server-side wait of the next locking read, whole seconds (InnoDB takes no fractions). */
    waitSeconds: 'SET SESSION innodb_lock_wait_timeout = ?',
    resetWait: 'SET SESSION innodb_lock_wait_timeout = DEFAULT',
    commit: 'COMMIT',
    rollback: 'ROLLBACK',
  };
};

/** InnoDB's "lock wait timeout" (1205; MariaDB's NOWAIT too), MySQL 8's NOWAIT (3572), a deadlock (1213). */
export const DEADLOCK = 1213;
export const LOCK_BUSY_ERRNOS = new Set([1205, 3572, DEADLOCK]);
