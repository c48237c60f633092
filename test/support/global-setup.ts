import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDbServer } from '../../scripts/stack/mariadb';
import { STACK_STATE_FILE, type SharedStackState } from './shared-stack';

/**
 * Starts one isolated MariaDB for the whole run (each test file gets its own database in it).
 * Redis servers and replicas are started per test file, so a test can kill or pause its own.
 */
export default async function globalSetup(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'seckill-test-'));
  process.env.STACK_RUN_DIR = root;
  process.env.STACK_PID_DIR = join(root, 'pids');
  const mariadb = await MariaDbServer.start(join(root, 'mariadb'));
  const state: SharedStackState = { root, mariadbPort: mariadb.port, mariadbSocket: mariadb.socket };
  writeFileSync(join(root, STACK_STATE_FILE), JSON.stringify(state));
  (globalThis as { __MARIADB__?: MariaDbServer }).__MARIADB__ = mariadb;
}
