import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort } from './ports';

const run = promisify(execFile);

export const APP_DB_USER = 'app';
export const APP_DB_PASSWORD = 'app';

/** An isolated MariaDB server in its own datadir, on its own port. */
export class MariaDbServer {
  readonly process: ManagedProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    const args = [
      '--no-defaults',
      `--datadir=${join(dir, 'data')}`,
      `--socket=${this.socket}`,
      `--pid-file=${join(dir, 'mariadbd.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--max-connections=1000',
      '--innodb-buffer-pool-size=256M',
      // Test and dev stacks trade crash durability for speed; production uses the defaults.
      '--innodb-flush-log-at-trx-commit=2',
      '--innodb-doublewrite=0',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      `--log-error=${join(dir, 'error.log')}`,
    ];
    if (process.getuid?.() === 0) {
      args.push('--user=root');
    }
    this.process = new ManagedProcess({
      name: 'mariadb',
      command: findBinary('mariadbd'),
      args,
      logFile: join(dir, 'stdout.log'),
      ready: () => this.ping(),
      readyTimeoutMs: 60_000,
    });
  }

  get socket(): string {
    return join(this.dir, 'mariadb.sock');
  }

  /** Creates the datadir, starts the server and an `app` user reachable over TCP. */
  static async start(dir: string, port?: number): Promise<MariaDbServer> {
    mkdirSync(dir, { recursive: true });
    const args = [
      '--no-defaults',
      `--datadir=${join(dir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ];
    if (process.getuid?.() === 0) {
      args.push('--user=root');
    }
    await run(findBinary('mariadb-install-db'), args, { maxBuffer: 16 * 1024 * 1024 });
    const server = new MariaDbServer(dir, port ?? (await freePort()));
    await server.process.start();
    const root = await createConnection({ socketPath: server.socket, user: 'root', multipleStatements: true });
    try {
      await root.query(
        `CREATE USER IF NOT EXISTS '${APP_DB_USER}'@'%' IDENTIFIED BY '${APP_DB_PASSWORD}';` +
          `GRANT ALL PRIVILEGES ON *.* TO '${APP_DB_USER}'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;`,
      );
    } finally {
      await root.end();
    }
    return server;
  }

  /** `mysql://app:app@127.0.0.1:<port>/<database>` */
  url(database: string): string {
    return `mysql://${APP_DB_USER}:${APP_DB_PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const conn = await createConnection({ socketPath: this.socket, user: 'root' });
    try {
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`);
    } finally {
      await conn.end();
    }
    return this.url(name);
  }

  private async ping(): Promise<boolean> {
    const conn = await createConnection({ socketPath: this.socket, user: 'root', connectTimeout: 500 });
    await conn.end();
    return true;
  }

  stop(): Promise<void> {
    return this.process.stop(30_000);
  }
}
