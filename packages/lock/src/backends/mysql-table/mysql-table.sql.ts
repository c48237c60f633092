/**
 * The lock table's statements. Every time that decides — expiry, takeover, the fencing token's
 * floor — is the database's clock (`NOW(3)`, `NOW(6)`), never a process's. One statement per step,
 * each atomic on the lock's row (autocommit), so no transaction is held across a round trip.
 */
const NOW_MS = 'CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)';
const NOW_US = 'CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED)';

/** Identifiers cannot be bound: the table name is checked once, here. */
export function checkTableName(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(table)) {
    throw new Error(`Invalid lock table name ${table}`);
  }
  return table;
}

export const mysqlTableSql = (table: string) => {
  const t = `\`${checkTableName(table)}\``;
  return {
    create: `CREATE TABLE IF NOT EXISTS ${t} (
      name VARCHAR(191) NOT NULL PRIMARY KEY,
      owner VARCHAR(191) NOT NULL,
      holds INT UNSIGNED NOT NULL,
      expires_at_ms BIGINT UNSIGNED NOT NULL,
      fence BIGINT UNSIGNED NOT NULL,
      KEY idx_expires (expires_at_ms)
    ) ENGINE=InnoDB`,
    /**
     * One attempt [name, owner, leaseMs]: insert the row, or take it over if it expired, or confirm
     * it if it is already this owner's (a retried attempt whose reply was lost). The grant's fencing
     * token comes back as the OK packet's insert id (`LAST_INSERT_ID(expr)`); a busy lock answers 0.
     * Assignments run left to right on the old row, `owner` before `expires_at_ms`, so the last one
     * sees whether the row became this owner's. Token: max(fence + 1, server µs), as on Redis.
     */
    acquire: `INSERT INTO ${t} (name, owner, holds, expires_at_ms, fence)
      VALUES (?, ?, 1, ${NOW_MS} + ?, LAST_INSERT_ID(${NOW_US}))
      ON DUPLICATE KEY UPDATE
        fence = IF(expires_at_ms <= ${NOW_MS}, LAST_INSERT_ID(GREATEST(fence + 1, ${NOW_US})),
                IF(owner = VALUES(owner), LAST_INSERT_ID(fence), fence + LAST_INSERT_ID(0))),
        holds = IF(expires_at_ms <= ${NOW_MS} OR owner = VALUES(owner), 1, holds),
        owner = IF(expires_at_ms <= ${NOW_MS}, VALUES(owner), owner),
        expires_at_ms = IF(owner = VALUES(owner), VALUES(expires_at_ms), expires_at_ms)`,
    /** Re-entry [leaseMs, name, owner]: only while this owner's hold is alive. */
    reenter: `UPDATE ${t} SET holds = holds + 1, expires_at_ms = GREATEST(expires_at_ms, ${NOW_MS} + ?)
      WHERE name = ? AND owner = ? AND expires_at_ms > ${NOW_MS}`,
    /** One re-entry released [name, owner]. */
    leave: `UPDATE ${t} SET holds = holds - 1 WHERE name = ? AND owner = ? AND holds > 1 AND expires_at_ms > ${NOW_MS}`,
    /** Final release by the owner only [name, owner]; 0 rows: not this owner's, or expired. */
    release: `DELETE FROM ${t} WHERE name = ? AND owner = ? AND expires_at_ms > ${NOW_MS}`,
    /** An expired hold of this owner's, removed after the fact [name, owner]. */
    releaseExpired: `DELETE FROM ${t} WHERE name = ? AND owner = ?`,
    /** Watchdog [leaseMs, name, owner]: extends a live hold only. */
    renew: `UPDATE ${t} SET expires_at_ms = ${NOW_MS} + ? WHERE name = ? AND owner = ? AND expires_at_ms > ${NOW_MS}`,
    /** `assertHeld` [name, owner]. */
    held: `SELECT 1 AS held FROM ${t} WHERE name = ? AND owner = ? AND expires_at_ms > ${NOW_MS}`,
    /** Sweeper [graceMs, limit]: rows of holders that died (their lease ran out) and nobody took over. */
    sweep: `DELETE FROM ${t} WHERE expires_at_ms <= ${NOW_MS} - ? LIMIT ?`,
  };
};

export type MySqlTableSql = ReturnType<typeof mysqlTableSql>;
