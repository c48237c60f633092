/**
 * Errors of mysql2/TypeORM that mean "MySQL cannot be used right now" (unreachable, gone away,
 * overloaded, a lock or statement timeout), as opposed to a query that is wrong. They answer 503
 * `DATABASE_UNAVAILABLE`, never a 500.
 */
/** Socket errors any client raises: MySQL's only when mysql2 marked them (`fatal`) or TypeORM wrapped them. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const UNAVAILABLE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'POOL_CLOSED',
  'POOL_ACQUIRE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_CONNECTION_KILLED',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
]);
/**
 * 1040 too many connections, 1053 shutdown, 1205 lock wait timeout, 1213 deadlock (the transaction was
 * rolled back; retried where it is safe, else a 503 to retry), 1927 killed, 1969/3024 statement time,
 * 2002/2003/2006/2013 client.
 */
const UNAVAILABLE_ERRNOS = new Set([1040, 1053, 1205, 1213, 1317, 1927, 1969, 3024, 2002, 2003, 2006, 2013]);
const UNAVAILABLE_MESSAGES = [
  'Pool is closed',
  'Connection lost',
  "Can't add new command when connection is in closed state",
];

/** What mysql2 reports on an error, whether TypeORM wrapped it (QueryFailedError) or not. */
export interface MysqlErrorFields {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
  message?: string;
}

/** The mysql2 error behind a TypeORM QueryFailedError, or the error itself. */
export function mysqlError(error: unknown): MysqlErrorFields {
  if (typeof error !== 'object' || error === null) {
    return {};
  }
  return (error as { driverError?: object }).driverError ?? error;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const wrapped = (error as { driverError?: object }).driverError !== undefined;
  const driver = mysqlError(error);
  if (driver.code && NETWORK_CODES.has(driver.code)) {
    return driver.fatal === true || wrapped;
  }
  if ((driver.code && UNAVAILABLE_CODES.has(driver.code)) || (driver.errno && UNAVAILABLE_ERRNOS.has(driver.errno))) {
    return true;
  }
  const message = driver.message ?? '';
  return driver.fatal === true || UNAVAILABLE_MESSAGES.some((prefix) => message.startsWith(prefix));
}
