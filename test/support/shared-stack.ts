import { ZooKeeperServer, type ZooKeeperServerOptions } from '../../scripts/stack/zookeeper';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { APP_DB_PASSWORD, APP_DB_USER } from '../../scripts/stack/mariadb';
import { RedisServer, type RedisServerOptions } from '../../scripts/stack/redis';

export const STACK_STATE_FILE = 'stack.json';

export interface SharedStackState {
  root: string;
  mariadbPort: number;
  mariadbSocket: string;
}

let counter = 0;

/** The MariaDB started by global setup (see jest.config.js). */
export function sharedStack(): SharedStackState {
  const root = process.env.STACK_RUN_DIR;
  if (!root) {
    throw new Error('STACK_RUN_DIR is not set: run tests through jest (global setup starts the servers)');
  }
  return JSON.parse(readFileSync(join(root, STACK_STATE_FILE), 'utf8')) as SharedStackState;
}

/** A fresh, empty database in the shared MariaDB; returns its MYSQL_URL. */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const { mariadbPort, mariadbSocket } = sharedStack();
  const name = `${prefix}_${process.pid}_${Date.now()}_${counter++}`.replace(/\W/g, '_');
  const conn = await createConnection({ socketPath: mariadbSocket, user: 'root' });
  try {
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await conn.end();
  }
  return `mysql://${APP_DB_USER}:${APP_DB_PASSWORD}@127.0.0.1:${mariadbPort}/${name}`;
}

/** A fresh folder under the run folder, for servers a test starts itself. */
export function testDir(name: string): string {
  const dir = join(sharedStack().root, `${name}-${process.pid}-${Date.now()}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Starts a private redis-server for one test file; stop it in afterAll. */
export function startTestRedis(name = 'redis', options: RedisServerOptions = {}): Promise<RedisServer> {
  return RedisServer.start(testDir(name), name, options);
}

/** Starts a private ZooKeeper server for one test file; stop it in afterAll. */
export function startTestZooKeeper(name = 'zookeeper', options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
  return ZooKeeperServer.start(testDir(name), name, options);
}
