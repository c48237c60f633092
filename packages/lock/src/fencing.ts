import { LockError } from './lock.errors';

/** A write carried a fencing token not newer than one the resource has already seen. */
export class StaleFencingTokenError extends LockError {
  override readonly name = StaleFencingTokenError.name;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`Not a safe SQL identifier: ${name}`);
  }
  return `\`${name}\``;
}

/** What `fencedUpdate` needs to know about the row it guards. */
export interface FencedUpdate {
  table: string;
  /** Primary-key column and value of the guarded row. */
  key: { column: string; value: string | number };
  /** Columns to set. */
  set: Record<string, unknown>;
  /** The holder's `fencingToken`. */
  token: number;
  /** Column that remembers the newest token seen (BIGINT NOT NULL DEFAULT 0). Default `fence`. */
  fenceColumn?: string;
}

/**
 * The consumer side of fencing tokens, for MySQL: the row remembers the newest token that wrote it
 * and refuses older ones, so a holder that was paused past its lease cannot overwrite the work of
 * the holder that came after it:
 *
 * ```sql
 * UPDATE t SET col = ?, fence = :token WHERE id = ? AND fence < :token
 * ```
 *
 * Returns the statement and its parameters; run it with any driver and pass the affected-row count
 * to `assertFencedWrite`.
 */
export function fencedUpdate(update: FencedUpdate): { sql: string; params: unknown[] } {
  const fence = identifier(update.fenceColumn ?? 'fence');
  const columns = Object.keys(update.set);
  if (columns.length === 0) {
    throw new Error('fencedUpdate needs at least one column to set');
  }
  const assignments = columns.map((column) => `${identifier(column)} = ?`).join(', ');
  return {
    sql: `UPDATE ${identifier(update.table)} SET ${assignments}, ${fence} = ? WHERE ${identifier(update.key.column)} = ? AND ${fence} < ?`,
    params: [...columns.map((column) => update.set[column]), update.token, update.key.value, update.token],
  };
}

/** Throws `StaleFencingTokenError` unless the fenced write changed exactly one row. */
export function assertFencedWrite(affectedRows: number, update: Pick<FencedUpdate, 'table' | 'token'>): void {
  if (affectedRows !== 1) {
    throw new StaleFencingTokenError(
      `Write to ${update.table} with fencing token ${update.token} refused: a newer holder already wrote (or the row is missing)`,
      update.table,
    );
  }
}
