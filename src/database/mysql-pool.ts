import type { DataSource } from 'typeorm';

/** A connection of mysql2's callback pool, as far as this project uses it. */
export interface PooledConnection {
  query(sql: string, callback: (error: unknown) => void): void;
  release(): void;
  /** Closes the connection and takes it out of the pool. */
  destroy(): void;
}

export type AcquireCallback = (error: Error | null, connection?: PooledConnection) => void;

/** mysql2's callback pool behind TypeORM's MySQL driver, as far as this project uses it. */
export interface MysqlPool {
  on(event: 'acquire', listener: (connection: PooledConnection) => void): void;
  getConnection(callback: AcquireCallback): void;
}

/** The driver's mysql2 pool (not part of TypeORM's typed API); undefined before it connected. */
export function mysqlPoolOf(dataSource: DataSource): MysqlPool | undefined {
  return (dataSource.driver as unknown as { pool?: MysqlPool }).pool;
}

/**
 * Runs `setup` once for each of the pool's connections, on its first acquisition: not on creation,
 * since the pool holds connections opened before the app's modules started. Listeners run in the
 * order they were added.
 */
export function onFirstAcquire(pool: MysqlPool, setup: (connection: PooledConnection) => void): void {
  const seen = new WeakSet<PooledConnection>();
  pool.on('acquire', (connection) => {
    if (!seen.has(connection)) {
      seen.add(connection);
      setup(connection);
    }
  });
}
