import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

interface PooledConnection {
  query(sql: string, callback: (error: unknown) => void): void;
}
interface CallbackPool {
  on(event: 'acquire', listener: (connection: PooledConnection) => void): void;
}

/**
 * Every MySQL session runs in UTC (`SET time_zone = '+00:00'`), so `CURRENT_TIMESTAMP` defaults
 * (create_time, update_time) are UTC on a server whose zone is not, matching how the driver reads
 * DATETIMEs (`timezone: 'Z'`). Sent once per connection, on its first acquisition: mysql2 runs a
 * connection's commands in order, so it precedes whatever the acquirer sends.
 */
@Injectable()
export class UtcSessions implements OnModuleInit {
  private readonly initialised = new WeakSet<PooledConnection>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const pool = (this.dataSource.driver as unknown as { pool?: CallbackPool }).pool;
    pool?.on('acquire', (connection) => {
      if (this.initialised.has(connection)) {
        return;
      }
      this.initialised.add(connection);
      connection.query("SET time_zone = '+00:00'", () => undefined);
    });
  }
}
