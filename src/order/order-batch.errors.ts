import { mysqlError } from '../database/database-errors';

/**
 * The batch's rows could not all take stock (the voucher's row is gone, or holds less stock than
 * Redis admitted): a fault of the data, not of the infrastructure, so retrying will not help.
 */
export class StockMismatchError extends Error {
  override readonly name = StockMismatchError.name;
}

/** COMMIT was sent but its reply was lost: the outcome is unknown until read back. */
export class CommitOutcomeUnknownError extends Error {
  override readonly name = CommitOutcomeUnknownError.name;
}

/**
 * True when an error is the entry's own fault and will recur on every attempt: a stock mismatch or
 * a data/constraint error (SQLSTATE class 22 or 23). Anything else (connection lost, timeouts,
 * deadlocks, the server going away) is infrastructure: retry, never dead-letter.
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof StockMismatchError) {
    return true;
  }
  const { sqlState } = mysqlError(error);
  return typeof sqlState === 'string' && (sqlState.startsWith('22') || sqlState.startsWith('23'));
}
