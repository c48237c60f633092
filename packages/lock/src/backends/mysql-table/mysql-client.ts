/**
 * What the MySQL backends need of a client, typed structurally: a mysql2/promise `Pool` (or
 * `Connection`) satisfies it as it is; the library imports no driver.
 */
export interface MySqlLockClient {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

/** The part of an OK packet the lock statements read. */
export interface OkPacket {
  affectedRows: number;
  insertId: number;
}
