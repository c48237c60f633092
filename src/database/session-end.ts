import type { DataSource, QueryRunner } from 'typeorm';
import { mysqlError } from './database-errors';

/** ER_NO_SUCH_THREAD: KILL found no session with that id (it had ended already). */
const NO_SUCH_THREAD = 1094;

/** The server's id of the session a connected query runner uses (mysql2's `threadId`), if known. */
export function sessionIdOf(runner: QueryRunner): number | undefined {
  const connection = (runner as { databaseConnection?: { threadId?: number | null } }).databaseConnection;
  return typeof connection?.threadId === 'number' ? connection.threadId : undefined;
}

/**
 * Ends a session whose last statement went unanswered and waits until the server has no such thread:
 * from then on nothing sent on it can still run (a statement still on its way over the network finds
 * the session gone), so what a read-back finds next is final. A statement the session is running is
 * rolled back, a COMMIT already under way completes. Throws when it cannot tell (the KILL or the check
 * failed, or the thread outlived `timeoutMs`); each statement is bounded by the pool's query timeout.
 */
export async function endSession(
  dataSource: DataSource,
  sessionId: number,
  { timeoutMs }: { timeoutMs: number },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  try {
    await dataSource.query(`KILL CONNECTION ${Math.trunc(sessionId)}`);
  } catch (error) {
    if (mysqlError(error).errno !== NO_SUCH_THREAD) {
      throw error;
    }
  }
  // KILL only flags the thread; it ends when it next checks the flag (a rollback may take a moment).
  for (;;) {
    const rows = await dataSource.query<unknown[]>('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [
      sessionId,
    ]);
    if (rows.length === 0) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`MySQL session ${sessionId} was killed but still runs after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
