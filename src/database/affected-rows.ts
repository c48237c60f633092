/** mysql2 answers UPDATE with a ResultSetHeader; TypeORM may wrap it as [rows, affected]. */
export function affectedRows(result: unknown): number {
  if (Array.isArray(result) && typeof result[1] === 'number') {
    return result[1];
  }
  return (result as { affectedRows?: number }).affectedRows ?? 0;
}
