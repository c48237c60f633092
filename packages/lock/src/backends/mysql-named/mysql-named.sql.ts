import { boundedName } from '../mysql-session/bounded-name';
import { checkTableName } from '../mysql-table/mysql-table.sql';

const NOW_US = 'CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED)';
/** GET_LOCK names are at most 64 characters (MySQL 5.7+); longer ones are hashed. */
const MAX_NAME = 64;

/** The server-side name of lock `name` (prefixed; hashed when too long). */
export function namedLockName(prefix: string, name: string): string {
  return boundedName(prefix, name, MAX_NAME);
}

export const mysqlNamedSql = (fenceTable: string) => {
  const t = `\`${checkTableName(fenceTable)}\``;
  return {
    /** GET_LOCK keeps no counter: the fencing token is kept per name in a small table that replicates. */
    create: `CREATE TABLE IF NOT EXISTS ${t} (
      name VARCHAR(191) NOT NULL PRIMARY KEY,
      fence BIGINT UNSIGNED NOT NULL
    ) ENGINE=InnoDB`,
    /**
     * Grant and token in one round trip [name, lockName, waitSeconds]: the SELECT yields a row only
     * if GET_LOCK granted (waiting in the server up to waitSeconds, fractions allowed), and the
     * upsert on that row returns the token as the insert id — max(fence + 1, server µs), as on
     * Redis. Only the holder of the named lock writes its fence row, so the row never waits.
     */
    grant: `INSERT INTO ${t} (name, fence)
      SELECT ?, LAST_INSERT_ID(${NOW_US}) FROM DUAL WHERE GET_LOCK(?, ?) = 1
      ON DUPLICATE KEY UPDATE fence = LAST_INSERT_ID(GREATEST(fence + 1, ${NOW_US}))`,
    /** [lockName] 1: this session holds it. */
    held: 'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS held',
    /** [lockName] 1 released; 0 held by another session; NULL nobody holds it. */
    release: 'SELECT RELEASE_LOCK(?) AS released',
  };
};
